namespace DeformEngine.Tests.Support;

public static class TensorAssert
{
    /// <summary>max |actual − expected| ≤ relTol · max(max |expected|, 1): a norm-wise relative
    /// bound that does not blow up on entries that are zero in the reference.</summary>
    public static double Close<T>(Tensor<T> expected, Tensor<T> actual, double relTol, string what)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CollectionAssert.AreEqual(expected.Shape, actual.Shape, $"{what}: shape");
        var e = expected.ToArray();
        var a = actual.ToArray();
        double scale = 1, worst = 0;
        int worstIndex = -1;
        foreach (var v in e) scale = Math.Max(scale, Math.Abs(double.CreateChecked(v)));
        for (int i = 0; i < e.Length; i++)
        {
            double diff = Math.Abs(double.CreateChecked(a[i]) - double.CreateChecked(e[i]));
            if (double.IsNaN(diff) || diff > worst) { worst = double.IsNaN(diff) ? double.PositiveInfinity : diff; worstIndex = i; }
        }
        double relative = worst / scale;
        Assert.IsTrue(relative <= relTol,
            $"{what}: relative error {relative:E3} > {relTol:E1} at flat index {worstIndex} (expected {(worstIndex >= 0 ? e[worstIndex] : default)}, got {(worstIndex >= 0 ? a[worstIndex] : default)}).");
        return relative;
    }

    public static void AllEqual<T>(Tensor<T> tensor, T value, string what) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var data = tensor.ToArray();
        for (int i = 0; i < data.Length; i++)
            Assert.AreEqual(value, data[i], $"{what}: element {i}");
    }

    public static Tensor<float> ToFloat(Tensor<double> t) =>
        Tensor<float>.FromArray(t.ToArray().Select(v => (float)v).ToArray(), t.Shape);
}
