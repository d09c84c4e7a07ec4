using DeformEngine.Kernels;

namespace DeformEngine.Tests.Ops;

/// <summary>The weight permutations of the deformable fast path ([O, Cg, K] ↔ [O, K, Cg]) against
/// their definition, on sizes that cover both the 8×8 register transposes and their element-loop
/// edges (Cg and K below, at and above 8, not multiples of it); and the bias add of the forward's output rows.</summary>
[TestClass]
public class WeightLayoutTests
{
    public static IEnumerable<object[]> Sizes =>
    [
        [1, 1, 1], [3, 8, 8], [2, 16, 9], [5, 13, 9], [4, 7, 25], [2, 24, 4], [3, 9, 17], [64, 512, 9],
    ];

    [TestMethod]
    [DynamicData(nameof(Sizes))]
    public void KernelPointMajor_Float_MatchesDefinitionBothWays(int outChannels, int groupChannels, int kernelPoints) =>
        CheckBothWays<float>(outChannels, groupChannels, kernelPoints);

    [TestMethod]
    [DynamicData(nameof(Sizes))]
    public void KernelPointMajor_Double_MatchesDefinitionBothWays(int outChannels, int groupChannels, int kernelPoints) =>
        CheckBothWays<double>(outChannels, groupChannels, kernelPoints);

    private static void CheckBothWays<T>(int outChannels, int groupChannels, int kernelPoints)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int size = groupChannels * kernelPoints;
        // Distinct values, so that any misplaced element shows.
        var weight = new T[outChannels * size];
        for (int i = 0; i < weight.Length; i++) weight[i] = T.CreateChecked(i + 1);

        var permuted = new T[weight.Length];
        ConvGemm.ToKernelPointMajor<T>(weight, outChannels, groupChannels, kernelPoints, permuted);
        for (int o = 0; o < outChannels; o++)
            for (int c = 0; c < groupChannels; c++)
                for (int k = 0; k < kernelPoints; k++)
                    Assert.AreEqual(weight[o * size + c * kernelPoints + k], permuted[o * size + k * groupChannels + c],
                        $"[O, K, Cg] at o {o}, k {k}, c {c}");

        var back = (T[])permuted.Clone();
        ConvGemm.FromKernelPointMajorInPlace<T>(back, outChannels, groupChannels, kernelPoints);
        CollectionAssert.AreEqual(weight, back, "[O, K, Cg] turned back in place must give [O, Cg, K]");
    }

    /// <summary>The forward's bias add: element by element the sum source + bias, on lengths below, at and past
    /// a vector and not multiples of it, in place and into another span; a short destination is refused.</summary>
    [TestMethod]
    public void AddBias_EveryElementIsSourcePlusBias()
    {
        var random = new Random(4);
        foreach (int length in new[] { 0, 1, 7, 8, 15, 16, 17, 33, 96, 101 })
        {
            float[] source = Enumerable.Range(0, length).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
            double[] sourceDouble = source.Select(v => (double)v * 1.1).ToArray();
            float[] into = new float[length + 3];
            Array.Fill(into, float.NaN);
            ConvGemm.AddBias<float>(source, 0.3f, into);
            float[] inPlace = (float[])source.Clone();
            ConvGemm.AddBias<float>(inPlace, 0.3f, inPlace);
            double[] doubles = (double[])sourceDouble.Clone();
            ConvGemm.AddBias<double>(doubles, -0.7, doubles);
            for (int i = 0; i < length; i++)
            {
                Assert.AreEqual(source[i] + 0.3f, into[i], $"length {length}, element {i}");
                Assert.AreEqual(source[i] + 0.3f, inPlace[i], $"length {length}, element {i} in place");
                Assert.AreEqual(sourceDouble[i] - 0.7, doubles[i], $"length {length}, element {i}, double");
            }
            for (int i = length; i < into.Length; i++)
                Assert.IsTrue(float.IsNaN(into[i]), $"length {length}: element {i} past the source was written");
        }
        var error = Assert.ThrowsExactly<ArgumentException>(() => ConvGemm.AddBias<float>(new float[5], 1f, new float[4]));
        Assert.AreEqual("destination", error.ParamName);
    }
}
