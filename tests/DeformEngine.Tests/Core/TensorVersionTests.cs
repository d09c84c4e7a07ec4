namespace DeformEngine.Tests.Core;

/// <summary><see cref="Tensor{T}.Version"/>: every mutable access path moves it, reads do not, and
/// views of one storage share it.</summary>
[TestClass]
public class TensorVersionTests
{
    private static Tensor<float> Sample() => Tensor<float>.Randn(3, 2, 3);

    [TestMethod]
    public void AsSpan_Called_VersionMoves()
    {
        var tensor = Sample();
        long before = tensor.Version;
        tensor.AsSpan()[0] = 1f;
        Assert.IsGreaterThan(before, tensor.Version);
    }

    [TestMethod]
    public void IndexerSet_VersionMoves()
    {
        var tensor = Sample();
        long before = tensor.Version;
        tensor[1, 2] = 5f;
        Assert.IsGreaterThan(before, tensor.Version);
    }

    [TestMethod]
    public void Assign_VersionMoves()
    {
        var tensor = Sample();
        long before = tensor.Version;
        tensor.Assign(Tensor<float>.Zeros(2, 3));
        Assert.IsGreaterThan(before, tensor.Version);
    }

    [TestMethod]
    public void AddInPlace_VersionMoves()
    {
        var tensor = Sample();
        long before = tensor.Version;
        tensor.AddInPlace(Tensor<float>.Ones(2, 3));
        Assert.IsGreaterThan(before, tensor.Version);
    }

    [TestMethod]
    public void Reads_VersionUnchanged()
    {
        var tensor = Sample();
        long before = tensor.Version;
        _ = tensor.AsReadOnlySpan()[0];
        _ = tensor[0, 1];
        _ = tensor.ToArray();
        _ = tensor.Clone();
        _ = (tensor + tensor).Sum();
        Assert.AreEqual(before, tensor.Version);
    }

    [TestMethod]
    public void WriteThroughView_SeenByEveryView()
    {
        var tensor = Sample();
        var reshaped = tensor.Reshape(3, 2);
        var detached = tensor.Detach();
        long before = tensor.Version;
        reshaped.AsSpan()[4] = 2f;
        Assert.IsGreaterThan(before, tensor.Version);
        Assert.AreEqual(tensor.Version, detached.Version);
        Assert.AreEqual(tensor.Version, reshaped.Version);
    }

    [TestMethod]
    public void Clone_OwnVersion()
    {
        var tensor = Sample();
        var copy = tensor.Clone();
        long before = tensor.Version;
        copy.AsSpan()[0] = 3f;
        Assert.AreEqual(before, tensor.Version);
    }

    [TestMethod]
    public void GradientAccumulation_LeafGradVersionMoves()
    {
        var leaf = Tensor<float>.Randn(4, 3);
        leaf.RequiresGrad = true;
        (leaf * leaf).Sum().Backward();
        var grad = leaf.Grad!;
        long before = grad.Version;
        (leaf * leaf).Sum().Backward();
        Assert.AreSame(grad, leaf.Grad);
        Assert.IsGreaterThan(before, grad.Version);
    }
}
