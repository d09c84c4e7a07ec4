using System.IO.Compression;
using DeformEngine.IO;
using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.NN;

/// <summary>Malformed and hostile checkpoints, built here opcode by opcode: each must throw
/// InvalidDataException naming the file and the fault, run nothing, and allocate no more than the
/// file justifies.</summary>
[TestClass]
public class TorchCheckpointHostileTests
{
    /// <summary>What a load may allocate per byte of the file: the values a pickle builds cost a
    /// bounded amount per opcode byte (an empty list, one byte, costs ~100 bytes of objects once an
    /// item is appended). The hostile sizes below would cost gigabytes.</summary>
    private const long AllocationPerFileByte = 128;

    /// <summary>Plus the reader's buffers, the file stream's and the exception messages.</summary>
    private const long AllocationSlackBytes = 4 << 20;

    private static readonly byte[] FourFloats = new byte[16];

    private static string Formats(string file) => Path.Combine(AppContext.BaseDirectory, "golden-data", "torch_checkpoint", "formats", file);

    private static T WithFile<T>(byte[] bytes, Func<string, T> use)
    {
        var path = Path.Combine(Path.GetTempPath(), $"deformengine-hostile-{Guid.NewGuid():N}.pth");
        File.WriteAllBytes(path, bytes);
        try
        {
            return use(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The message of the InvalidDataException, checked to name the file; the load's
    /// allocations are checked against the file's size.</summary>
    private static string Refused(byte[] file) => WithFile(file, path =>
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.ThrowsExactly<InvalidDataException>(() => TorchCheckpoint.Load<float>(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.IsTrue(allocated < AllocationPerFileByte * file.Length + AllocationSlackBytes, $"the load allocated {allocated} bytes for a file of {file.Length}");
        StringAssert.Contains(error.Message, path);
        return error.Message;
    });

    private static byte[] Zip(Action<PickleWriter> body, params (string Key, byte[] Data)[] storages) =>
        PickleWriter.Zip(PickleWriter.Pickle(body), storages);

    private static Action<PickleWriter> Call(string module, string name, string argument) =>
        w => w.Global(module, name).Str(argument).Raw(0x85).Reduce();

    // ---- code in the pickle -----------------------------------------------------------------

    [TestMethod]
    public void Load_PickleCallingOsSystem_NeverRunsIt()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"deformengine-pwned-{Guid.NewGuid():N}");
        string command = $"touch {marker}";
        StringAssert.Contains(Refused(Zip(Call("os", "system", command))), "holds an object of class os.system");
        StringAssert.Contains(Refused(Zip(w => w.Dict(("w", Call("posix", "system", command))))),
            "entry 'w' of the checkpoint is an object of class posix.system");
        StringAssert.Contains(Refused(Zip(w => w.Dict(("w", v => v.Tensor(Call("os", "system", command), 0, [1], [1]))))),
            "a tensor's storage is an object of class os.system");
        Assert.IsFalse(File.Exists(marker), "the command ran");
    }

    [TestMethod]
    public void Load_ParameterOfStackGlobalEval_NamesTheClass()
    {
        // Protocol 4 names globals with STACK_GLOBAL; builtins.eval stays a placeholder.
        var file = Zip(w => w.Dict(("p", v => v.Global("torch._utils", "_rebuild_parameter")
            .Mark().Str("builtins").Str("eval").Raw(0x93).Str("__import__('os')").Raw(0x85).Reduce().Raw(0x88).Op(')').Op('t').Reduce())));
        StringAssert.Contains(Refused(file), "the data of torch._utils._rebuild_parameter is an object of class builtins.eval");
    }

    [TestMethod]
    public void Load_TensorSubclassOrUnknownStorage_NamesTheClass()
    {
        var subclass = Zip(w => w.Dict(("t", v => v.Global("torch._tensor", "_rebuild_from_type_v2").Mark()
            .Global("torch._utils", "_rebuild_tensor_v2").Global("evil", "Subclass")
            .Mark().Storage("FloatStorage", "0", 4).Int(0).Tuple(4).Tuple(1).Raw(0x89).Global("collections", "OrderedDict").Op(')').Reduce().Op('t')
            .Op('}').Op('t').Reduce())), ("0", FourFloats));
        StringAssert.Contains(Refused(subclass), "a tensor of class evil.Subclass is not supported");
        var complex = Zip(w => w.Dict(("t", v => v.Tensor(s => s.Storage("ComplexFloatStorage", "0", 2), 0, [2], [1]))), ("0", FourFloats));
        StringAssert.Contains(Refused(complex), "storage type torch.ComplexFloatStorage is not supported");
    }

    [TestMethod]
    public void Load_WholePickledModule_SaysToSaveTheStateDict()
    {
        var file = Zip(w => w.Global("torchvision.models.resnet", "ResNet").Op(')').Raw(0x81).Op('}').Op('b'));
        var message = Refused(file);
        StringAssert.Contains(message, "an object of class torchvision.models.resnet.ResNet");
        StringAssert.Contains(message, "save model.state_dict() instead");
    }

    // ---- data that is not there ---------------------------------------------------------------

    [TestMethod]
    public void Load_ViewPastItsStorage_SaysSo()
    {
        StringAssert.Contains(Refused(Zip(w => w.Dict(("w", v => v.FloatTensor("0", 4, 0, [10], [1]))), ("0", FourFloats))),
            "reaches past the 4 elements of its storage");
        StringAssert.Contains(Refused(Zip(w => w.Dict(("w", v => v.FloatTensor("0", 4, 4, [1], [1]))), ("0", FourFloats))),
            "offset 4) reaches past");
        StringAssert.Contains(Refused(Zip(w => w.Dict(("w", v => v.FloatTensor("0", 4, 0, [2, 2], [3, 1]))), ("0", FourFloats))),
            "stride [3, 1]");
    }

    [TestMethod]
    public void Load_StorageRecordShorterOrMissing_SaysSo()
    {
        StringAssert.Contains(Refused(Zip(w => w.Dict(("w", v => v.FloatTensor("0", 8, 0, [8], [1]))), ("0", FourFloats))),
            "record 'archive/data/0' holds 16 bytes, but storage '0' declares 8 float32 elements (32 bytes)");
        StringAssert.Contains(Refused(Zip(w => w.Dict(("w", v => v.FloatTensor("7", 4, 0, [4], [1]))), ("0", FourFloats))),
            "storage '7' has no record 'archive/data/7'");
    }

    [TestMethod]
    public void Load_LegacyRecordPastTheEnd_RefusesBeforeReading()
    {
        long huge = 1L << 40;
        var main = PickleWriter.Pickle(w => w.Dict(("w", v => v.FloatTensor("k", huge, 0, [4], [1], legacy: true))));
        StringAssert.Contains(Refused(PickleWriter.Legacy(main, [("k", huge, FourFloats)])),
            $"the record of storage 'k' at byte");
        StringAssert.Contains(Refused(PickleWriter.Legacy(main, [("k", huge, FourFloats)])), $"needs {huge * 4} bytes, but only 16 remain");
        var four = PickleWriter.Pickle(w => w.Dict(("w", v => v.FloatTensor("k", 4, 0, [4], [1], legacy: true))));
        StringAssert.Contains(Refused(PickleWriter.Legacy(four, [("k", 5, new byte[20])])), "holds 5 elements, the pickle declares 4");
        StringAssert.Contains(Refused(PickleWriter.Legacy(four, [])), "storage 'k' has no record in the file");
        StringAssert.Contains(Refused(PickleWriter.Legacy(four, [("k", 4, FourFloats)], littleEndian: false)), "big-endian");
    }

    [TestMethod]
    public void Load_OverflowingSizes_SaySo()
    {
        StringAssert.Contains(Refused(Zip(w => w.Dict(("w", v => v.FloatTensor("0", 4, 0, [1 << 30, 1 << 30], [1, 1]))), ("0", FourFloats))),
            "more elements than an array can hold");
        StringAssert.Contains(Refused(Zip(w => w.Dict(("w", v => v.FloatTensor("0", 4, 0, [3], [1L << 62]))), ("0", FourFloats))),
            "reaches past the 4 elements");
        StringAssert.Contains(Refused(Zip(w => w.Dict(("w", v => v.FloatTensor("0", 4, 0, [1L << 40], [1]))), ("0", FourFloats))),
            "has a dimension of 1099511627776");
        StringAssert.Contains(Refused(Zip(w => w.Dict(("w", v => v.FloatTensor("0", 4, 0, [-1], [1]))), ("0", FourFloats))),
            "is negative (-1)");
        StringAssert.Contains(Refused(Zip(w => w.Dict(("w", v => v.FloatTensor("0", 1L << 62, 0, [1], [1]))), ("0", FourFloats))),
            "more bytes than a file can hold");
        var nineByteInt = Zip(w => w.Dict(("w", v => v.Tensor(s => s.Storage("FloatStorage", "0", 4), 0, [1], [1])
            .Raw(0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1).Op('0'))), ("0", FourFloats));
        Assert.IsNotNull(WithFile(nineByteInt, TorchCheckpoint.Load<float>), "POP discards the big int; the file is valid");
        var bigSize = Zip(w => w.Dict(("w", v => v.Global("torch._utils", "_rebuild_tensor_v2").Mark().Storage("FloatStorage", "0", 4)
            .Int(0).Mark().Raw(0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1).Op('t').Tuple(1).Op('t').Reduce())), ("0", FourFloats));
        StringAssert.Contains(Refused(bigSize), "overflows 64 bits");
    }

    [TestMethod]
    public void Load_BroadcastView_RefusesToAllocateIt() =>
        StringAssert.Contains(Refused(Zip(w => w.Dict(("w", v => v.FloatTensor("0", 1, 0, [100_000_000], [0]))), ("0", new byte[4]))),
            "a broadcast view");

    // ---- the pickle machine -------------------------------------------------------------------

    [TestMethod]
    public void Load_DeepNesting_IsBoundedWithoutRecursion()
    {
        StringAssert.Contains(Refused(Zip(w => w.Raw(Enumerable.Repeat((byte)'(', 100_000).ToArray()))), "nests deeper than 1000 levels");
        // 100 000 lists, each appended to the previous: built iteratively, then refused as not a dict.
        var nested = Zip(w => w.Raw(Enumerable.Repeat((byte)']', 100_000).ToArray()).Raw(Enumerable.Repeat((byte)'a', 99_999).ToArray()));
        StringAssert.Contains(Refused(nested), "holds a list, not a dict of tensors");
        var selfReferencing = Zip(w => w.Op(']').Raw((byte)'q', 0, (byte)'h', 0).Op('a'));
        StringAssert.Contains(Refused(selfReferencing), "holds a list");
    }

    [TestMethod]
    public void Load_HugeMemoIndices_CostNothing()
    {
        // The tensor is memoised at index 0xFFFFFFF0 and read back from there for a second name.
        var file = Zip(w => w.Dict(
            ("a", v => v.FloatTensor("0", 4, 0, [4], [1]).Op('r').UInt32(0xFFFFFFF0)),
            ("b", v => v.Op('j').UInt32(0xFFFFFFF0))), ("0", [0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64]));
        var tensors = WithFile(file, TorchCheckpoint.Load<double>);
        CollectionAssert.AreEqual(new double[] { 1, 2, 3, 4 }, tensors["a"].ToArray());
        CollectionAssert.AreEqual(new double[] { 1, 2, 3, 4 }, tensors["b"].ToArray());
        StringAssert.Contains(Refused(Zip(w => w.Op('j').UInt32(0xFFFFFFF0))), "memo entry 4294967280 is read but was never stored");
    }

    [TestMethod]
    public void Load_LengthsPastTheEnd_RefusedBeforeAllocating()
    {
        StringAssert.Contains(Refused(Zip(w => w.Op('X').UInt32(0xFFFFFFF0))), "a string of 4294967280 bytes runs past the end of the pickle");
        StringAssert.Contains(Refused(Zip(w => w.Raw(0x8e).UInt64(long.MaxValue))), "runs past the end of the pickle");
        StringAssert.Contains(Refused(Zip(w => w.Raw(0x8b).UInt32(int.MaxValue))), "an int of 2147483647 bytes runs past the end");
        StringAssert.Contains(Refused(Zip(w => w.Raw(0x95).UInt64(1UL << 40))), "a frame of 1099511627776 bytes");
    }

    [TestMethod]
    public void Load_BrokenPickles_NameTheFault()
    {
        StringAssert.Contains(Refused(Zip(w => w.Raw(0xff))), "unknown pickle opcode 0xff");
        StringAssert.Contains(Refused(PickleWriter.Zip(new PickleWriter().Proto().Op('}').ToArray(), [])), "ends without a STOP opcode");
        StringAssert.Contains(Refused(Zip(w => w.Op('a'))), "an opcode needs a value, but the stack is empty");
        StringAssert.Contains(Refused(Zip(w => w.Op('}').Op('t'))), "closes a MARK that was never opened");
        StringAssert.Contains(Refused(Zip(w => w.Raw(0x82, 1))), "copyreg extension registry");
        StringAssert.Contains(Refused(PickleWriter.Zip([0x80, 9, (byte)'N', (byte)'.'], [])), "pickle protocol 9");
        StringAssert.Contains(Refused(Zip(w => w.Str("s").Op('}').Op('b'))), "BUILD sets the state of a str");
        StringAssert.Contains(Refused(Zip(w => w.Dict(("w", v => v.Int(3))))), "entry 'w' of the checkpoint is an int, not a tensor");
        StringAssert.Contains(Refused(Zip(w => w.Op('}').Str("state_dict").Op('N').Op('s'))), "'state_dict' holds None, not a dict of tensors");
    }

    // ---- the containers -----------------------------------------------------------------------

    [TestMethod]
    public void Load_TruncatedFiles_SaySo()
    {
        var zip = File.ReadAllBytes(Formats("dtypes.zip.pth"));
        StringAssert.Contains(Refused(zip[..(zip.Length / 2)]), "damaged");
        var legacy = File.ReadAllBytes(Formats("dtypes.legacy.pth"));
        StringAssert.Contains(Refused(legacy[..(legacy.Length - 10)]), "the file is truncated");
        StringAssert.Contains(Refused(legacy[..(legacy.Length / 3)]), "truncated");
    }

    [TestMethod]
    public void Load_CompressedRecord_IsNotInflated()
    {
        var pickle = PickleWriter.Pickle(w => w.Dict(("w", v => v.FloatTensor("0", 4, 0, [4], [1]))));
        StringAssert.Contains(Refused(PickleWriter.Zip(pickle, [("0", FourFloats)], CompressionLevel.Optimal)),
            "is compressed");
    }

    [TestMethod]
    public void Load_NotACheckpoint_SaysWhatItIs()
    {
        StringAssert.Contains(Refused("hello world"u8.ToArray()), "neither a zip archive");
        StringAssert.Contains(Refused([]), "neither a zip archive");
        var tar = new byte[1024];
        "ustar"u8.CopyTo(tar.AsSpan(257));
        StringAssert.Contains(Refused(tar), "a tar archive");
        StringAssert.Contains(Refused(PickleWriter.Pickle(w => w.Int(42))), "not torch.save's magic number");
        StringAssert.Contains(Refused(ZipWithoutPickle()), "no '<name>/data.pkl' record");
    }

    private static byte[] ZipWithoutPickle()
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        using (var entry = zip.CreateEntry("weights.bin", CompressionLevel.NoCompression).Open())
            entry.Write(FourFloats);
        return stream.ToArray();
    }

    // ---- fuzzing ------------------------------------------------------------------------------

    /// <summary>Seeded mutations (1–4 bytes overwritten, or the file cut short) of real torch.save
    /// files: each load succeeds or throws InvalidDataException, nothing else.</summary>
    [TestMethod]
    [DataRow("dtypes.zip.pth")]
    [DataRow("dtypes.legacy.pth")]
    public void Load_RandomMutations_LoadOrThrowInvalidData(string file)
    {
        const int Mutations = 150;
        var original = File.ReadAllBytes(Formats(file));
        var random = new SeededRandom(file.Length);
        int refused = 0;
        for (int m = 0; m < Mutations; m++)
        {
            var bytes = (byte[])original.Clone();
            if (m % 5 == 0)
            {
                bytes = bytes[..random.NextInt(bytes.Length)];
            }
            else
            {
                int count = 1 + random.NextInt(4);
                for (int i = 0; i < count; i++) bytes[random.NextInt(bytes.Length)] = (byte)random.NextInt(256);
            }
            try
            {
                WithFile(bytes, TorchCheckpoint.Load<float>);
            }
            catch (InvalidDataException)
            {
                refused++;
            }
        }
        Assert.IsTrue(refused > Mutations / 10, $"only {refused} of {Mutations} mutations were refused");
    }
}
