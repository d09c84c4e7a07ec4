using DeformEngine.Kernels;

namespace DeformEngine.Tests.Ops;

/// <summary>The weight permutations of the deformable fast path ([O, Cg, K] ↔ [O, K, Cg]) against
/// their definition, on sizes that cover both the 8×8 register transposes and their element-loop
/// edges (Cg and K below, at and above 8, not multiples of it).</summary>
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
}
