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
}
