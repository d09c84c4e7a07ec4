using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace DeformEngine.Tests.Support;

/// <summary>Writes pickles opcode by opcode and wraps them as torch.save does (zip or legacy), to
/// build the hostile and malformed checkpoints the reader must refuse.</summary>
public sealed class PickleWriter
{
    private readonly List<byte> _bytes = [];

    public byte[] ToArray() => [.. _bytes];

    public PickleWriter Raw(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    public PickleWriter Op(char opcode) => Raw((byte)opcode);

    public PickleWriter Proto(int version = 2) => Raw(0x80, (byte)version);

    public PickleWriter Mark() => Op('(');

    public PickleWriter Stop() => Op('.');

    public PickleWriter Global(string module, string name) => Op('c').Raw(Encoding.UTF8.GetBytes($"{module}\n{name}\n"));

    public PickleWriter Str(string text)
    {
        var utf8 = Encoding.UTF8.GetBytes(text);
        return Op('X').UInt32((uint)utf8.Length).Raw(utf8);
    }

    public PickleWriter UInt32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return Raw(bytes);
    }

    public PickleWriter UInt64(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return Raw(bytes);
    }

    /// <summary>BININT for 32-bit values, LONG1 beyond.</summary>
    public PickleWriter Int(long value)
    {
        if (value is >= int.MinValue and <= int.MaxValue)
            return Op('J').UInt32(unchecked((uint)(int)value));
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        return Raw(0x8a, 8).Raw(bytes);
    }

    public PickleWriter Tuple(params long[] values)
    {
        Mark();
        foreach (var v in values) Int(v);
        return Op('t');
    }

    public PickleWriter Reduce() => Op('R');

    /// <summary>A persistent id ('storage', torch.&lt;type&gt;, key, 'cpu', numel[, None]) and BINPERSID.</summary>
    public PickleWriter Storage(string type, string key, long numel, bool legacy = false)
    {
        Mark().Str("storage").Global("torch", type).Str(key).Str("cpu").Int(numel);
        if (legacy) Op('N');
        return Op('t').Op('Q');
    }

    /// <summary>torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()),
    /// the storage written by <paramref name="storage"/>.</summary>
    public PickleWriter Tensor(Action<PickleWriter> storage, long offset, long[] size, long[] stride)
    {
        Global("torch._utils", "_rebuild_tensor_v2").Mark();
        storage(this);
        Int(offset).Tuple(size).Tuple(stride).Raw(0x89).Global("collections", "OrderedDict").Op(')').Reduce();
        return Op('t').Reduce();
    }

    public PickleWriter FloatTensor(string key, long numel, long offset, long[] size, long[] stride, bool legacy = false) =>
        Tensor(w => w.Storage("FloatStorage", key, numel, legacy), offset, size, stride);

    /// <summary>A dict {name: value, …} written with EMPTY_DICT, MARK and SETITEMS.</summary>
    public PickleWriter Dict(params (string Name, Action<PickleWriter> Value)[] entries)
    {
        Op('}').Mark();
        foreach (var (name, value) in entries)
        {
            Str(name);
            value(this);
        }
        return Op('u');
    }

    /// <summary>One pickle: PROTO 2, the body, STOP.</summary>
    public static byte[] Pickle(Action<PickleWriter> body)
    {
        var writer = new PickleWriter().Proto();
        body(writer);
        return writer.Stop().ToArray();
    }

    /// <summary>torch.save's zip format: archive/data.pkl, archive/data/&lt;key&gt;, archive/version.</summary>
    public static byte[] Zip(byte[] pickle, (string Key, byte[] Data)[] storages, CompressionLevel level = CompressionLevel.NoCompression)
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            void Add(string name, byte[] data)
            {
                using var entry = zip.CreateEntry(name, level).Open();
                entry.Write(data);
            }
            Add("archive/data.pkl", pickle);
            foreach (var (key, data) in storages) Add("archive/data/" + key, data);
            Add("archive/version", "3\n"u8.ToArray());
        }
        return stream.ToArray();
    }

    /// <summary>torch.save's legacy format: the magic number, protocol 1001 and system-info pickles,
    /// the main pickle, the storage keys, then per record its element count and bytes.</summary>
    public static byte[] Legacy(byte[] main, (string Key, long Numel, byte[] Data)[] records, bool littleEndian = true)
    {
        var writer = new PickleWriter()
            .Proto().Raw(0x8a, 10).Raw(Magic).Stop()
            .Proto().Op('M').Raw(0xe9, 0x03).Stop()
            .Proto().Op('}').Str("little_endian").Raw(littleEndian ? (byte)0x88 : (byte)0x89).Op('s').Stop()
            .Raw(main)
            .Proto().Op(']').Mark();
        foreach (var (key, _, _) in records) writer.Str(key);
        writer.Op('e').Stop();
        foreach (var (_, numel, data) in records) writer.UInt64((ulong)numel).Raw(data);
        return writer.ToArray();
    }

    /// <summary>0x1950a86a20f9469cfc6c, little-endian, as LONG1 writes torch.save's magic number.</summary>
    private static readonly byte[] Magic = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
}
