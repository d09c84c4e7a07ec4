namespace DeformEngine.Tests.Ops;

/// <summary>Helpers shared by the RoI pooling tests: golden cases, seeded data, comparisons.</summary>
internal static class RoITestData
{
    /// <summary>One torchvision golden case: tensors in double and the operator parameters.
    /// Gradients are of L = sum(output · gradOutput).</summary>
    public sealed record RoIGolden(
        Tensor<double> Input, Tensor<double> Rois, Tensor<double> Output, Tensor<double> GradOutput, Tensor<double> GradInput,
        (int H, int W) OutputSize, double SpatialScale, int SamplingRatio, bool Aligned);

    /// <summary>Loads golden-data/&lt;op&gt;/&lt;name&gt;/ written by tests/golden/make_golden.py.</summary>
    public static RoIGolden LoadGolden(string op, string name)
    {
        var golden = Support.GoldenCase.All(op).Single(c => c.Name == name);
        var root = golden.Params;
        return new RoIGolden(golden.Load<double>("input"), golden.Load<double>("rois"), golden.Load<double>("output"),
            golden.Load<double>("grad_output"), golden.Load<double>("grad_input"), golden.Pair("output_size"),
            root.GetProperty("spatial_scale").GetDouble(), root.GetProperty("sampling_ratio").GetInt32(),
            root.TryGetProperty("aligned", out var aligned) && aligned.GetBoolean());
    }

    /// <summary>max |a − b| over all elements; the shapes must match.</summary>
    public static double MaxAbsDiff<T>(Tensor<T> actual, Tensor<T> expected) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        CollectionAssert.AreEqual(expected.Shape, actual.Shape, "shape");
        var a = actual.ToArray();
        var b = expected.ToArray();
        double max = 0;
        for (int i = 0; i < a.Length; i++)
            max = Math.Max(max, Math.Abs(double.CreateChecked(a[i]) - double.CreateChecked(b[i])));
        return max;
    }

    public static void AssertClose<T>(Tensor<T> expected, Tensor<T> actual, double tolerance, string what)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        double diff = MaxAbsDiff(actual, expected);
        Assert.IsTrue(diff <= tolerance, $"{what}: max |diff| = {diff:E3} > {tolerance:E1}");
    }

    /// <summary>rois [K, 5] from rows (batch index, x1, y1, x2, y2).</summary>
    public static Tensor<double> Rois(params double[][] rows) =>
        Tensor<double>.FromArray(rows.SelectMany(r => r).ToArray(), rows.Length, 5);

    /// <summary>Moves every value at least 0.05 away from the nearest multiple of ½. Tests place the
    /// unshifted samples of RoI pooling on a half-integer grid; shifts kept off that grid keep the
    /// samples off the bilinear kinks (integers) and off MXNet's skip margins (−½, W − ½).</summary>
    public static Tensor<double> KeepOffHalfIntegers(Tensor<double> shifts)
    {
        var doubled = GradCheck.KeepOffIntegers(shifts.MulScalar(2.0), margin: 0.1);
        return doubled.MulScalar(0.5);
    }

    /// <summary>A tensor in double converted to float.</summary>
    public static Tensor<float> ToFloat(Tensor<double> tensor) =>
        Tensor<float>.FromArray(tensor.ToArray().Select(v => (float)v).ToArray(), tensor.Shape);

    public static GradCheckResult CheckAndPrint(Func<Tensor<double>[], Tensor<double>> function, Tensor<double>[] inputs, string[] names)
    {
        var result = GradCheck.Check(function, inputs, names: names);
        Console.WriteLine(result);
        return result;
    }
}
