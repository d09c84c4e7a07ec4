using DeformEngine.Cpu;
using DeformEngine.Kernels;

namespace DeformEngine.Tests.Ops;

/// <summary><see cref="CpuFastBackend.Prepare{T}"/> compiles kernels by running them; it must leave no
/// trace: the caller's gradient mode and a later call's results are as without it.</summary>
[TestClass]
public class CpuFastBackendPrepareTests
{
    [TestMethod]
    public void Prepare_InsideNoGrad_GradientModeUnchanged()
    {
        using (Autograd.NoGrad())
        {
            CpuFastBackend.Prepare<float>();
            Assert.IsFalse(Autograd.IsGradEnabled);
        }
        Assert.IsTrue(Autograd.IsGradEnabled);
    }

    [TestMethod]
    public void Prepare_BeforeACall_SameResult()
    {
        var input = Tensor<double>.Randn(1, 1, 4, 6, 6);
        var offset = Tensor<double>.Randn(2, 1, 18, 6, 6);
        var weight = Tensor<double>.Randn(3, 5, 4, 3, 3);
        double[] before = Functional.DeformConv2d(input, offset, weight, padding: (1, 1)).ToArray();
        CpuFastBackend.Prepare<double>();
        double[] after = Functional.DeformConv2d(input, offset, weight, padding: (1, 1)).ToArray();
        CollectionAssert.AreEqual(before, after);
    }

    /// <summary>The layers Prepare runs reach the paths a real first call takes: the tiled forward over more than
    /// one GEMM depth step with a tile of at least a full GEMM panel (and 16 positions), and the untiled forward.</summary>
    [TestMethod]
    public void PrepareLayers_CoverTiledDeepAndUntiledForward()
    {
        foreach (int elementSize in new[] { sizeof(float), sizeof(double) })
        {
            var layers = elementSize == sizeof(float) ? CpuFastBackend.PrepareLayers<float>() : CpuFastBackend.PrepareLayers<double>();
            int TileRows((int Channels, int Size, int OutChannels, bool Backward) layer) => DeformConv2dWorkspace.ForwardTileRows(
                new DeformConv2dParams(new Conv2dParams(1, layer.Channels, layer.Size, layer.Size, layer.OutChannels, 3, 3, (1, 1), (1, 1), (1, 1), 1), 1, true),
                elementSize, threads: 2);
            int panel = elementSize == sizeof(float) ? Gemm.PanelColumns<float>() : Gemm.PanelColumns<double>();
            Assert.IsTrue(layers.Any(layer => TileRows(layer) >= Math.Max(16, panel) && layer.Channels * 9 > 512), $"{elementSize} B: no deep tiled layer");
            Assert.IsTrue(layers.Any(layer => TileRows(layer) == 0), $"{elementSize} B: no untiled layer");
        }
    }
}
