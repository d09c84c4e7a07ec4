using System.Buffers.Binary;
using System.Text;
using DeformEngine.IO;
using static DeformEngine.Tests.Core.TensorAssert;

namespace DeformEngine.Tests.Core;

[TestClass]
public class NpyTests
{
    // Saving and loading copies bits.
    private const double Exact = 0;
    // A header that claims gigabytes must not make the loader allocate them; the real file here is
    // under a kilobyte, so a few megabytes of slack cover buffers and the runtime's own allocations.
    private const long AllocationBudgetBytes = 8L << 20;
    // A header length is checked against the bytes left before it is allocated; 256 KiB is far
    // below the 1 MiB the corrupt header claims and far above an exception's own allocations.
    private const long HeaderBudgetBytes = 256L << 10;

    /// <summary>A .npy file laid out by the format specification: magic, version, header length,
    /// header padded with spaces to a multiple of 64 bytes and ended by a newline, then the data.</summary>
    private static byte[] NpyFile(string dictionary, byte[] data, byte major = 1)
    {
        int lengthSize = major == 1 ? 2 : 4;
        int prefix = 6 + 2 + lengthSize;
        int total = (prefix + dictionary.Length + 1 + 63) / 64 * 64;
        string header = dictionary.PadRight(total - prefix - 1) + "\n";
        using var file = new MemoryStream();
        file.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', major, 0]);
        var length = new byte[lengthSize];
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)header.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)header.Length);
        file.Write(length);
        file.Write(Encoding.ASCII.GetBytes(header));
        file.Write(data);
        return file.ToArray();
    }

    private static string Dictionary(string descr, string shape, string fortran = "False") =>
        $"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}";

    private static byte[] Doubles(params double[] values)
    {
        var bytes = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(i * 8), values[i]);
        return bytes;
    }

    private static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        return bytes;
    }

    private static InvalidDataException LoadFails(byte[] file, string expectedMessagePart, bool seekable = true)
    {
        using Stream stream = seekable ? new MemoryStream(file) : new ForwardOnlyStream(file);
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => Npy.Load<double>(stream));
        Assert.Contains(expectedMessagePart, ex.Message);
        return ex;
    }

    [TestMethod]
    public void Load_HandWrittenFloat64File_ReadsShapeAndValues()
    {
        var file = NpyFile(Dictionary("<f8", "(2, 3)"), Doubles(1, 2, 3, 4, 5, 6.5));
        var t = Npy.Load<double>(new MemoryStream(file));
        ShapeIs([2, 3], t);
        Close([1, 2, 3, 4, 5, 6.5], t, Exact);
    }

    [TestMethod]
    public void Load_HandWrittenFloat32FileAsDouble_Converts()
    {
        var file = NpyFile(Dictionary("<f4", "(3,)"), Floats(0.5f, -1.25f, 3));
        var t = Npy.Load<double>(new MemoryStream(file));
        ShapeIs([3], t);
        Close([0.5, -1.25, 3], t, Exact);
    }

    [TestMethod]
    public void Load_Version2Header_Reads()
    {
        var file = NpyFile(Dictionary("<f4", "(1, 2)"), Floats(7, 8), major: 2);
        Close([7, 8], Npy.Load<float>(new MemoryStream(file)), Exact);
    }

    [TestMethod]
    public void Load_NonSeekableStream_Reads()
    {
        var file = NpyFile(Dictionary("<f8", "()"), Doubles(42));
        var t = Npy.Load<double>(new ForwardOnlyStream(file));
        Assert.AreEqual(0, t.Rank);
        Assert.AreEqual(42.0, t.Item());
    }

    [TestMethod]
    public void Save_Float64_WritesSpecLayout()
    {
        using var stream = new MemoryStream();
        Npy.Save(stream, Tensor<double>.FromArray([1, 2], 2));
        var bytes = stream.ToArray();
        CollectionAssert.AreEqual(NpyFile(Dictionary("<f8", "(2,)"), Doubles(1, 2)), bytes);
        Assert.AreEqual(0, (bytes.Length - 16) % 64, "data starts on a 64-byte boundary");
    }

    [TestMethod]
    public void SaveLoad_FileRoundTripInBothPrecisions_Identical()
    {
        string path = Path.Combine(Path.GetTempPath(), $"deformengine-npy-{Guid.NewGuid():N}.npy");
        try
        {
            var d = Tensor<double>.Randn(111, 2, 3, 4);
            Npy.Save(path, d);
            var dBack = Npy.Load<double>(path);
            ShapeIs([2, 3, 4], dBack);
            CollectionAssert.AreEqual(d.ToArray(), dBack.ToArray());

            var f = Tensor<float>.Randn(112, 5);
            Npy.Save(path, f);
            CollectionAssert.AreEqual(f.ToArray(), Npy.Load<float>(path).ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void SaveLoad_ScalarAndEmptyShapes_RoundTrip()
    {
        foreach (var original in new[] { Tensor<double>.Scalar(3.5), Tensor<double>.Zeros(0, 3), Tensor<double>.Ones(1, 1, 1, 1) })
        {
            using var stream = new MemoryStream();
            Npy.Save(stream, original);
            stream.Position = 0;
            var back = Npy.Load<double>(stream);
            ShapeIs(original.Shape, back);
            CollectionAssert.AreEqual(original.ToArray(), back.ToArray());
        }
    }

    [TestMethod]
    public void Load_BadMagic_Throws()
    {
        LoadFails(Encoding.ASCII.GetBytes("PK\u0003\u0004 this is a zip file, not an array"), "bad magic");
        LoadFails([0x93, (byte)'N', (byte)'U'], "bad magic");
    }

    [TestMethod]
    public void Load_UnsupportedVersion_Throws()
    {
        var file = NpyFile(Dictionary("<f8", "(1,)"), Doubles(1));
        file[6] = 4;
        LoadFails(file, "version 4.0");
    }

    [TestMethod]
    public void Load_WrongDtype_ThrowsNamingIt()
    {
        LoadFails(NpyFile(Dictionary("<i4", "(2,)"), new byte[8]), "unsupported dtype '<i4'");
        LoadFails(NpyFile(Dictionary(">f8", "(1,)"), new byte[8]), "unsupported dtype '>f8'");
    }

    [TestMethod]
    public void Load_FortranOrder_Throws()
    {
        LoadFails(NpyFile(Dictionary("<f8", "(2, 2)", fortran: "True"), Doubles(1, 2, 3, 4)), "Fortran-order");
    }

    [TestMethod]
    public void Load_HeaderWithoutShape_Throws()
    {
        LoadFails(NpyFile("{'descr': '<f8', 'fortran_order': False, }", Doubles(1)), "no 'shape'");
    }

    [TestMethod]
    public void Load_ShapeNeedsMoreThanDataHolds_ThrowsTruncated()
    {
        // (2, 3) float64 needs 48 bytes; the file holds 40.
        LoadFails(NpyFile(Dictionary("<f8", "(2, 3)"), Doubles(1, 2, 3, 4, 5)), "needs 48 data bytes, the file holds 40 (truncated)");
    }

    [TestMethod]
    public void Load_ShapeNeedsLessThanDataHolds_Throws()
    {
        LoadFails(NpyFile(Dictionary("<f8", "(2,)"), Doubles(1, 2, 3)), "needs 16 data bytes, the file holds 24");
    }

    [TestMethod]
    public void Load_TruncatedDataOnForwardOnlyStream_Throws()
    {
        LoadFails(NpyFile(Dictionary("<f8", "(4,)"), Doubles(1, 2)), "data truncated: expected 32 bytes, got 16", seekable: false);
    }

    [TestMethod]
    public void Load_TruncatedHeader_Throws()
    {
        var file = NpyFile(Dictionary("<f8", "(1,)"), Doubles(1));
        LoadFails(file[..20], "truncated header");
    }

    [TestMethod]
    public void Load_AbsurdElementCount_Throws()
    {
        LoadFails(NpyFile(Dictionary("<f8", "(100000, 100000, 100000)"), Doubles(1)), "more elements than an array can hold");
        // 300 000 000 float64 fit an array of elements but not one byte buffer (2.4 GB).
        LoadFails(NpyFile(Dictionary("<f8", "(300000000,)"), Doubles(1)), "needs 2400000000 data bytes, more than one load can hold");
    }

    [TestMethod]
    public void Load_DimensionBeyondInt32OrNegative_Throws()
    {
        LoadFails(NpyFile(Dictionary("<f8", "(99999999999,)"), Doubles(1)), "bad shape dimension '99999999999'");
        LoadFails(NpyFile(Dictionary("<f8", "(-1,)"), Doubles(1)), "bad shape dimension '-1'");
    }

    [TestMethod]
    public void Load_AbsurdHeaderLength_Throws()
    {
        var file = NpyFile(Dictionary("<f8", "(1,)"), Doubles(1), major: 2);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(8), 0xFFFF_FFF0);
        LoadFails(file, "header length 4294967280 is absurd");
    }

    [TestMethod]
    public void Load_HugeShapeOnForwardOnlyStream_AllocatesOnlyWhatTheFileHolds()
    {
        // 10 000 × 20 000 float64 claims 1.6 GB; the stream holds 8 bytes of data.
        var file = NpyFile(Dictionary("<f8", "(10000, 20000)"), Doubles(1));
        long before = GC.GetAllocatedBytesForCurrentThread();
        LoadFails(file, "data truncated", seekable: false);
        Assert.IsLessThan(AllocationBudgetBytes, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [TestMethod]
    public void Load_HeaderLengthBeyondFile_ThrowsWithoutAllocatingIt()
    {
        // A version-2 header may claim up to 1 MiB; a 60-byte file cannot hold it.
        var file = NpyFile(Dictionary("<f8", "(1,)"), Doubles(1), major: 2);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(8), 1 << 20);
        long before = GC.GetAllocatedBytesForCurrentThread();
        LoadFails(file, "truncated header");
        Assert.IsLessThan(HeaderBudgetBytes, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>A stream that can only be read forwards, like a network or pipe stream.</summary>
    private sealed class ForwardOnlyStream(byte[] data) : Stream
    {
        private readonly MemoryStream _inner = new(data);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
