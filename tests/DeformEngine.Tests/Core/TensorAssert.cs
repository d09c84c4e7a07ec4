using System.Numerics;

namespace DeformEngine.Tests.Core;

/// <summary>Builders and comparisons shared by the Core tests, written once for float and double.</summary>
internal static class TensorAssert
{
    /// <summary>Tensor of <typeparamref name="T"/> from hand-written double literals.</summary>
    public static Tensor<T> Make<T>(double[] values, params int[] shape) where T : unmanaged, IFloatingPointIeee754<T> =>
        Tensor<T>.FromArray(values.Select(T.CreateChecked).ToArray(), shape);

    /// <summary>Seeded normal values pushed at least <paramref name="margin"/> away from zero, so
    /// that finite differences of kinked functions (Relu, Abs) never straddle the kink.</summary>
    public static Tensor<double> AwayFromZero(long seed, double margin, params int[] shape)
    {
        var data = Tensor<double>.Randn(seed, shape).ToArray();
        for (int i = 0; i < data.Length; i++) data[i] += data[i] >= 0 ? margin : -margin;
        return Tensor<double>.FromArray(data, shape);
    }

    /// <summary>Seeded values in [low, low + 1), for functions defined on positive numbers only.</summary>
    public static Tensor<double> Positive(long seed, double low, params int[] shape)
    {
        var data = Tensor<double>.Rand(seed, shape).ToArray();
        for (int i = 0; i < data.Length; i++) data[i] += low;
        return Tensor<double>.FromArray(data, shape);
    }

    public static void Close<T>(double[] expected, Tensor<T> actual, double tolerance, string what = "")
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var values = actual.ToArray();
        Assert.HasCount(expected.Length, values, $"{what}: element count");
        for (int i = 0; i < expected.Length; i++)
        {
            double got = double.CreateChecked(values[i]);
            Assert.IsTrue(Math.Abs(got - expected[i]) <= tolerance || (double.IsNaN(expected[i]) && double.IsNaN(got)),
                $"{what} [{typeof(T).Name}] element {i}: expected {expected[i]:R}, got {got:R} (tolerance {tolerance:G3}).");
        }
    }

    public static void ShapeIs<T>(int[] expected, Tensor<T> actual) where T : unmanaged, IFloatingPointIeee754<T> =>
        CollectionAssert.AreEqual(expected, actual.Shape, $"shape {ShapeMath.Format(actual.Shape)}");

    public static void Passes(GradCheckResult result) => Assert.IsTrue(result.Passed, "\n" + result);

    /// <summary>Asserts an <see cref="ArgumentException"/> (exactly that type) whose ParamName and message
    /// name <paramref name="parameter"/>.</summary>
    public static ArgumentException ThrowsArgument(string parameter, Action action)
    {
        var ex = Assert.ThrowsExactly<ArgumentException>(action);
        Assert.AreEqual(parameter, ex.ParamName, ex.Message);
        Assert.Contains(parameter, ex.Message);
        return ex;
    }
}
