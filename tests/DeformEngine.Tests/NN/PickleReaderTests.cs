using System.Text;
using DeformEngine.IO;

namespace DeformEngine.Tests.NN;

/// <summary>The checkpoint reader's pickle machine on pickles written by CPython in every protocol
/// (tests/golden/make_torch_checkpoints.py, pickle_values()), and the torch globals of a real
/// torch.save file.</summary>
[TestClass]
public class PickleReaderTests
{
    private static string Golden(params string[] parts) =>
        Path.Combine([AppContext.BaseDirectory, "golden-data", "torch_checkpoint", .. parts]);

    private sealed class NoStorages : TorchStorages
    {
        protected override void Declare(TorchStorageRef storage) => throw new InvalidOperationException("no storages here");

        protected override byte[] ReadRecord(TorchStorageRef storage, long byteCount) => throw new InvalidOperationException("no storages here");
    }

    private static object? Read(byte[] bytes)
    {
        using var stream = new MemoryStream(bytes);
        var value = new PickleReader(stream, "test pickle", new TorchPickleResolver(new NoStorages())).Read();
        Assert.AreEqual(bytes.Length, stream.Position, "the reader stops right after STOP");
        return value;
    }

    private static object? Get(PickleDict dict, string key)
    {
        Assert.IsTrue(dict.TryGet(key, out var value), $"'{key}' is missing");
        return value;
    }

    private static object?[] Items(object? value) => value switch
    {
        PickleList list => [.. list.Items],
        PickleTuple tuple => tuple.Items,
        _ => throw new AssertFailedException($"expected a list or tuple, got {PickleValues.Describe(value)}"),
    };

    [TestMethod]
    [DataRow(0)]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(3)]
    [DataRow(4)]
    [DataRow(5)]
    public void Read_EveryProtocol_GivesThePythonValues(int protocol)
    {
        var dict = (PickleDict)Read(File.ReadAllBytes(Golden("pickles", $"protocol{protocol}.pkl")))!;
        Assert.AreEqual(1L, Get(dict, "int"));
        Assert.AreEqual(-300L, Get(dict, "negative"));
        Assert.AreEqual(1L << 40, Get(dict, "large"));
        Assert.AreEqual(-BigInteger.Pow(2, 70), Get(dict, "huge"));
        Assert.AreEqual(-1.25, Get(dict, "float"));
        Assert.AreEqual("h\u00e9llo \u2713", Get(dict, "str"));
        CollectionAssert.AreEqual(new byte[] { 0, 255 }, (byte[])Get(dict, "bytes")!);
        Assert.IsInstanceOfType<PickleTuple>(Get(dict, "tuple"));
        CollectionAssert.AreEqual(new object[] { 1L, 2L, 3L }, Items(Get(dict, "tuple")));
        var list = Items(Get(dict, "list"));
        Assert.AreEqual(1L, list[0]);
        CollectionAssert.AreEqual(new object?[] { 2L, null }, Items(list[1]));
        CollectionAssert.AreEqual(new object[] { true, false }, Items(Get(dict, "bools")));
        CollectionAssert.AreEqual(new object[] { 7L }, Items(Get(dict, "set")));
        CollectionAssert.AreEqual(new object[] { 8L }, Items(Get(dict, "frozenset")));
        Assert.AreEqual(1L, Get((PickleDict)Get(dict, "odict")!, "a"));
        var shared = Items(Get(dict, "shared"));
        Assert.AreSame(shared[0], shared[1], "the memo gives the same object twice");
        CollectionAssert.AreEqual(new object[] { 5L }, Items(shared[0]));
    }

    [TestMethod]
    public void Read_Protocol0QuotedString_DecodesEscapes()
    {
        // Python 2's str in protocol 0: S'a\'b\x41\n'
        var bytes = Encoding.Latin1.GetBytes("S'a\\'b\\x41\\n'\n.");
        Assert.AreEqual("a'bA\n", Read(bytes));
    }

    [TestMethod]
    public void Read_TorchSaveGlobals_InterpretedWithoutImporting()
    {
        // model_key.zip.pth: {'model': ..., 'epoch': 3, 'args': argparse.Namespace(...),
        // 'extra': {'device': torch.device('cuda:0'), 'size': torch.Size([2, 3]), 'dtype': torch.float32,
        // 'bytes': b'xy', 'set': {1, 2}}}
        using var file = File.OpenRead(Golden("formats", "model_key.zip.pth"));
        var (root, storages) = TorchZipCheckpoint.Read(file);
        using (storages)
        {
            var top = (PickleDict)root!;
            Assert.AreEqual(3L, Get(top, "epoch"));
            Assert.AreEqual("argparse.Namespace", ((PickleObject)Get(top, "args")!).Type.FullName);
            var extra = (PickleDict)Get(top, "extra")!;
            Assert.AreEqual("cuda:0", Get(extra, "device"));
            CollectionAssert.AreEqual(new object[] { 2L, 3L }, Items(Get(extra, "size")));
            Assert.AreEqual(new PickleGlobal("torch", "float32"), Get(extra, "dtype"));
            CollectionAssert.AreEqual("xy"u8.ToArray(), (byte[])Get(extra, "bytes")!);
            CollectionAssert.AreEqual(new object[] { 1L, 2L }, Items(Get(extra, "set")));
            var weight = (TorchTensorRef)Get((PickleDict)Get(top, "model")!, "module.weight")!;
            CollectionAssert.AreEqual(new[] { 2, 2 }, weight.Shape);
            CollectionAssert.AreEqual(new long[] { 2, 1 }, weight.Strides);
            Assert.AreEqual(TorchDType.Float32, weight.Storage.DType);
        }
    }

    [TestMethod]
    public void Read_LegacyStorageView_CoversItsRange()
    {
        // Old legacy files could view part of a storage: ('storage', type, root key, location, root
        // numel, (view key, offset, size)). A tensor of the view reads from the view's offset.
        var main = Tests.Support.PickleWriter.Pickle(w => w.Dict(("v", t => t.Tensor(s => s.Mark().Str("storage")
            .Global("torch", "FloatStorage").Str("root").Str("cpu").Int(4).Mark().Str("view").Int(1).Int(2).Op('t').Op('t').Op('Q'),
            0, [2], [1]))));
        var record = new byte[16];
        for (int i = 0; i < 4; i++) BitConverter.TryWriteBytes(record.AsSpan(4 * i), (float)(10 + i));
        var path = Path.Combine(Path.GetTempPath(), $"deformengine-view-{Guid.NewGuid():N}.pth");
        File.WriteAllBytes(path, Tests.Support.PickleWriter.Legacy(main, [("root", 4, record)]));
        try
        {
            CollectionAssert.AreEqual(new double[] { 11, 12 }, TorchCheckpoint.Load<double>(path)["v"].ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
