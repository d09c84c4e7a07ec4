using DeformEngine.IO;
using DeformEngine.NN;

namespace DeformEngine.Tests.NN;

/// <summary>The reader on files written by torch.save itself (tests/golden/make_torch_checkpoints.py);
/// the expected values are the closed forms the generator used.</summary>
[TestClass]
public class TorchCheckpointTests
{
    private static string Formats(string file) => Path.Combine(AppContext.BaseDirectory, "golden-data", "torch_checkpoint", "formats", file);

    private static void AssertTensor<T>(OrderedDictionary<string, Tensor<T>> tensors, string name, int[] shape, double[] values)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Assert.IsTrue(tensors.TryGetValue(name, out var tensor), $"'{name}' is missing");
        CollectionAssert.AreEqual(shape, tensor.Shape, $"{name}: shape");
        CollectionAssert.AreEqual(values.Select(T.CreateChecked).ToArray(), tensor.ToArray(), $"{name}: values");
    }

    private static void AssertDtypes<T>(string file) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tensors = TorchCheckpoint.Load<T>(Formats(file));
        CollectionAssert.AreEqual(new[]
        {
            "f32", "f64", "f16", "bf16", "i64", "i32", "i16", "i8", "u8", "bool", "param",
            "base", "transposed", "window", "strided", "empty", "scalar",
        }, tensors.Keys.ToArray());
        AssertTensor(tensors, "f32", [2, 3], Enumerable.Range(0, 6).Select(k => k / 4.0).ToArray());
        AssertTensor(tensors, "f64", [5], Enumerable.Range(0, 5).Select(k => k / 10.0).ToArray());
        AssertTensor(tensors, "f16", [4], [1, -2, 0.5, 65504]);
        AssertTensor(tensors, "bf16", [3], [1.5, -3, Math.Pow(2, -10)]);
        AssertTensor(tensors, "i64", [], [7]);
        AssertTensor(tensors, "i32", [2], [int.MinValue, 5]);
        AssertTensor(tensors, "i16", [2], [short.MinValue, 3]);
        AssertTensor(tensors, "i8", [2], [-128, 127]);
        AssertTensor(tensors, "u8", [2], [0, 255]);
        AssertTensor(tensors, "bool", [3], [1, 0, 1]);
        AssertTensor(tensors, "param", [2], [1, 2]);
        AssertTensor(tensors, "empty", [0, 3], []);
        AssertTensor(tensors, "scalar", [], [2.5]);
        // base = arange(12).reshape(3, 4); the next three are views of its storage.
        AssertTensor(tensors, "base", [3, 4], Enumerable.Range(0, 12).Select(k => (double)k).ToArray());
        AssertTensor(tensors, "transposed", [4, 3], Enumerable.Range(0, 12).Select(k => (double)(4 * (k % 3) + k / 3)).ToArray());
        AssertTensor(tensors, "window", [2, 2], [5, 6, 9, 10]);
        AssertTensor(tensors, "strided", [4], [1, 4, 7, 10]);
    }

    /// <summary>The zip and legacy formats, each with torch.save's default pickle protocol (2) and
    /// another one.</summary>
    [TestMethod]
    [DataRow("dtypes.zip.pth")]
    [DataRow("dtypes.p4.zip.pth")]
    [DataRow("dtypes.legacy.pth")]
    [DataRow("dtypes.p1.legacy.pth")]
    public void Load_DtypesAndViews_AsDouble(string file) => AssertDtypes<double>(file);

    [TestMethod]
    [DataRow("dtypes.zip.pth")]
    [DataRow("dtypes.p4.zip.pth")]
    [DataRow("dtypes.legacy.pth")]
    [DataRow("dtypes.p1.legacy.pth")]
    public void Load_DtypesAndViews_AsFloat(string file) => AssertDtypes<float>(file);

    [TestMethod]
    public void Load_StateUnderModelKey_StripsDataParallelPrefixAndSkipsOtherObjects()
    {
        // {'model': {'module.weight', 'module.bias'}, 'epoch': 3, 'args': argparse.Namespace(...)}:
        // the Namespace stays a placeholder and is not needed.
        var tensors = TorchCheckpoint.Load<double>(Formats("model_key.zip.pth"));
        CollectionAssert.AreEqual(new[] { "weight", "bias" }, tensors.Keys.ToArray());
        AssertTensor(tensors, "weight", [2, 2], [1, 2, 3, 4]);
        AssertTensor(tensors, "bias", [2], [0.5, -0.5]);
    }

    [TestMethod]
    public void LoadTorchCheckpoint_IntoLinear_FillsItsParameters()
    {
        var layer = new Linear<float>(2, 2, random: new SeededRandom(3));
        var result = layer.LoadTorchCheckpoint(Formats("model_key.zip.pth"));
        Assert.AreEqual(0, result.MissingKeys.Count + result.UnexpectedKeys.Count);
        var y = layer.Forward(Tensor<float>.FromArray([1, 1], 1, 2));
        CollectionAssert.AreEqual(new float[] { 1 + 2 + 0.5f, 3 + 4 - 0.5f }, y.ToArray());
    }

    [TestMethod]
    public void LoadTorchCheckpoint_WrongNames_ThrowsListingThem()
    {
        var layer = new Conv2d<float>(2, 2, 1, random: new SeededRandom(3));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => layer.LoadTorchCheckpoint(Formats("dtypes.zip.pth"))).Message,
            "Unexpected: f32");
    }

    [TestMethod]
    public void LoadTorchCheckpoint_PrefixMatchingNothing_ThrowsNamingIt()
    {
        var layer = new Linear<float>(2, 2, random: new SeededRandom(3));
        var error = Assert.ThrowsExactly<ArgumentException>(() => layer.LoadTorchCheckpoint(Formats("model_key.zip.pth"), prefix: "backbone."));
        Assert.AreEqual("prefix", error.ParamName);
        StringAssert.Contains(error.Message, "'backbone.'");
        StringAssert.Contains(error.Message, "weight, bias");
        Assert.ThrowsExactly<ArgumentException>(() => layer.LoadTorchCheckpoint(Formats("model_key.zip.pth"), prefix: ""));
    }

    [TestMethod]
    public void Load_MissingFile_ThrowsFileNotFound() =>
        Assert.ThrowsExactly<FileNotFoundException>(() => TorchCheckpoint.Load<float>(Formats("no-such-file.pth")));
}
