namespace DeformEngine.Tests.Support;

/// <summary>Comparisons of an operator's output and gradients from two runs (fast vs reference path,
/// one thread vs two), each given as named arrays in the same order; null means "not computed".</summary>
public static class ResultArrays
{
    public static void AssertClose<T>((string Name, T[]? Values)[] expected, (string Name, T[]? Values)[] actual,
        double tolerance, string what) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var (name, e, a) in Pair(expected, actual, what))
            TensorAssert.Close(Tensor<T>.FromArray(e, e.Length), Tensor<T>.FromArray(a, a.Length), tolerance, $"{what}: {name}");
    }

    public static void AssertBitwise<T>((string Name, T[]? Values)[] expected, (string Name, T[]? Values)[] actual, string what)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var (name, e, a) in Pair(expected, actual, what))
            for (int i = 0; i < e.Length; i++)
                if (!e[i].Equals(a[i]))
                    Assert.Fail($"{what}: {name}[{i}] differs: {e[i]:R} vs {a[i]:R}");
    }

    /// <summary>The arrays present in both runs; fails when one run computed an array the other did not.</summary>
    private static IEnumerable<(string Name, T[] Expected, T[] Actual)> Pair<T>(
        (string Name, T[]? Values)[] expected, (string Name, T[]? Values)[] actual, string what)
    {
        Assert.HasCount(expected.Length, actual);
        for (int k = 0; k < expected.Length; k++)
        {
            var (name, e) = expected[k];
            var a = actual[k].Values;
            Assert.AreEqual(e is null, a is null, $"{what}: {name} presence");
            if (e is not null) yield return (name, e, a!);
        }
    }
}
