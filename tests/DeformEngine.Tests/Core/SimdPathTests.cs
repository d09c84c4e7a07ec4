using System.Numerics;

namespace DeformEngine.Tests.Core;

/// <summary>The elementwise kernels run on TensorPrimitives (Vector128/256/512 bodies with scalar
/// tails); every length 0..67 crosses each vector width's body/tail boundary. Each result is
/// compared with a plain scalar loop written here.</summary>
[TestClass]
public class SimdPathTests
{
    private const int MaxLength = 67;
    // + − × ÷, negation, |x|, max(x,0), √x and 1/x are correctly rounded IEEE operations: the vector
    // and scalar paths must agree bit for bit.
    private const double Exact = 0;
    // exp/log/tanh/sigmoid/pow are approximated differently by the vector bodies and by Math/MathF;
    // both are within a couple of ulp, so allow |Δ| ≤ atol + rtol·|expected| with rtol a few ulp
    // (float ulp 1.2e-7, double 2.2e-16) and atol covering cancellation around tanh(0).
    private const double FloatRtol = 1e-6, FloatAtol = 1e-7;
    private const double DoubleRtol = 1e-14, DoubleAtol = 1e-16;
    // A vector sum adds in a different order than a sequential loop; the rounding difference is
    // bounded by n·ulp·Σ|x|.
    private const double FloatSumRtol = MaxLength * 1.2e-7, DoubleSumRtol = MaxLength * 2.3e-16;

    private static (double Rtol, double Atol) Approximate<T>() =>
        typeof(T) == typeof(float) ? (FloatRtol, FloatAtol) : (DoubleRtol, DoubleAtol);

    private static Tensor<T> Values<T>(long seed, int length) where T : unmanaged, IFloatingPointIeee754<T> =>
        Tensor<T>.Randn(seed, length);

    /// <summary>Values in [0.5, 3.5), where log, √, pow and division are well conditioned.</summary>
    private static Tensor<T> PositiveValues<T>(long seed, int length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var data = Tensor<T>.Rand(seed, length).ToArray();
        for (int i = 0; i < data.Length; i++) data[i] = data[i] * T.CreateChecked(3) + T.CreateChecked(0.5);
        return Tensor<T>.FromArray(data, length);
    }

    private static void Compare<T>(string what, int length, Tensor<T> actual, Func<int, T> expected, double rtol, double atol)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var values = actual.ToArray();
        Assert.HasCount(length, values, $"{what} length {length}");
        for (int i = 0; i < length; i++)
        {
            double want = double.CreateChecked(expected(i));
            double got = double.CreateChecked(values[i]);
            Assert.IsTrue(Math.Abs(got - want) <= atol + rtol * Math.Abs(want),
                $"{what} [{typeof(T).Name}] length {length}, element {i}: scalar {want:R}, vector {got:R}.");
        }
    }

    private static void ForEachLength(Action<int> check)
    {
        for (int length = 0; length <= MaxLength; length++) check(length);
    }

    [TestMethod]
    public void BinaryOps_Lengths0To67_MatchScalarLoopExactly()
    {
        static void Run<T>() where T : unmanaged, IFloatingPointIeee754<T> => ForEachLength(n =>
        {
            var a = Values<T>(n, n);
            var b = PositiveValues<T>(1000 + n, n);
            T[] x = a.ToArray(), y = b.ToArray();
            Compare("add", n, a + b, i => x[i] + y[i], Exact, Exact);
            Compare("sub", n, a - b, i => x[i] - y[i], Exact, Exact);
            Compare("mul", n, a * b, i => x[i] * y[i], Exact, Exact);
            Compare("div", n, a / b, i => x[i] / y[i], Exact, Exact);
        });
        Run<float>();
        Run<double>();
    }

    [TestMethod]
    public void BroadcastRows_Lengths0To67_MatchScalarLoopExactly()
    {
        // [2, n] with [2, 1] walks the broadcast kernels that take one operand as a scalar per row.
        static void Run<T>() where T : unmanaged, IFloatingPointIeee754<T> => ForEachLength(n =>
        {
            var rows = Tensor<T>.Randn(n, 2, n);
            var column = Tensor<T>.FromArray([T.CreateChecked(1.5), T.CreateChecked(-0.75)], 2, 1);
            var x = rows.ToArray();
            T Col(int i) => i < n ? T.CreateChecked(1.5) : T.CreateChecked(-0.75);
            Compare("rows + column", 2 * n, rows + column, i => x[i] + Col(i), Exact, Exact);
            Compare("column - rows", 2 * n, column - rows, i => Col(i) - x[i], Exact, Exact);
            Compare("rows - column", 2 * n, rows - column, i => x[i] - Col(i), Exact, Exact);
            Compare("column * rows", 2 * n, column * rows, i => Col(i) * x[i], Exact, Exact);
            Compare("rows / column", 2 * n, rows / column, i => x[i] / Col(i), Exact, Exact);
            Compare("column / rows", 2 * n, column / rows, i => Col(i) / x[i], Exact, Exact);
        });
        Run<float>();
        Run<double>();
    }

    [TestMethod]
    public void ScalarAndExactUnaryOps_Lengths0To67_MatchScalarLoopExactly()
    {
        static void Run<T>() where T : unmanaged, IFloatingPointIeee754<T> => ForEachLength(n =>
        {
            var a = Values<T>(n, n);
            var x = a.ToArray();
            T c = T.CreateChecked(0.375);
            Compare("add scalar", n, a.AddScalar(c), i => x[i] + c, Exact, Exact);
            Compare("mul scalar", n, a.MulScalar(c), i => x[i] * c, Exact, Exact);
            Compare("reciprocal", n, a.Reciprocal(), i => T.One / x[i], Exact, Exact);
            Compare("neg", n, a.Neg(), i => -x[i], Exact, Exact);
            Compare("abs", n, a.Abs(), i => T.Abs(x[i]), Exact, Exact);
            Compare("relu", n, a.Relu(), i => x[i] > T.Zero ? x[i] : T.Zero, Exact, Exact);
            var p = PositiveValues<T>(n, n);
            var px = p.ToArray();
            Compare("sqrt", n, p.Sqrt(), i => T.Sqrt(px[i]), Exact, Exact);
        });
        Run<float>();
        Run<double>();
    }

    [TestMethod]
    public void TranscendentalOps_Lengths0To67_MatchScalarLoopWithinUlps()
    {
        static void Run<T>() where T : unmanaged, IFloatingPointIeee754<T> => ForEachLength(n =>
        {
            var (rtol, atol) = Approximate<T>();
            var a = Values<T>(n, n);
            var x = a.ToArray();
            var p = PositiveValues<T>(n, n);
            var px = p.ToArray();
            T exponent = T.CreateChecked(1.7);
            Compare("exp", n, a.Exp(), i => T.Exp(x[i]), rtol, atol);
            Compare("tanh", n, a.Tanh(), i => T.Tanh(x[i]), rtol, atol);
            Compare("sigmoid", n, a.Sigmoid(), i => T.One / (T.One + T.Exp(-x[i])), rtol, atol);
            Compare("log", n, p.Log(), i => T.Log(px[i]), rtol, atol);
            Compare("pow", n, p.Pow(exponent), i => T.Pow(px[i], exponent), rtol, atol);
        });
        Run<float>();
        Run<double>();
    }

    [TestMethod]
    public void Sum_Lengths0To67_MatchesSequentialSumWithinReorderBound()
    {
        static void Run<T>(double rtol) where T : unmanaged, IFloatingPointIeee754<T> => ForEachLength(n =>
        {
            var a = Values<T>(n, n);
            var x = a.ToArray();
            T sequential = T.Zero, magnitude = T.Zero;
            foreach (var v in x)
            {
                sequential += v;
                magnitude += T.Abs(v);
            }
            double got = double.CreateChecked(a.Sum().Item());
            double want = double.CreateChecked(sequential);
            Assert.IsTrue(Math.Abs(got - want) <= rtol * double.CreateChecked(magnitude),
                $"sum [{typeof(T).Name}] length {n}: sequential {want:R}, vector {got:R}.");
        });
        Run<float>(FloatSumRtol);
        Run<double>(DoubleSumRtol);
    }

    [TestMethod]
    public void SumAxis_RowsOfLengths0To67_MatchScalarLoopExactly()
    {
        // Summing along axis 0 adds whole rows with the vector Add, in the same order as the loop.
        static void Run<T>() where T : unmanaged, IFloatingPointIeee754<T> => ForEachLength(n =>
        {
            var a = Tensor<T>.Randn(n, 3, n);
            var x = a.ToArray();
            Compare("sum axis 0", n, a.Sum(0), i => x[i] + x[n + i] + x[2 * n + i], Exact, Exact);
        });
        Run<float>();
        Run<double>();
    }
}
