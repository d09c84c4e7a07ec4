using System.Buffers.Binary;

namespace DeformEngine.IO;

internal enum TorchDType { Float64, Float32, Float16, BFloat16, Int64, Int32, Int16, Int8, UInt8, Bool }

/// <summary>A storage as a persistent id declares it: its record, element type, and the range of
/// the record's elements it covers (the whole record, except the storage views of old legacy files).</summary>
internal sealed record TorchStorageRef(string Key, TorchDType DType, long Offset, long Numel);

/// <summary>A tensor as <c>torch._utils._rebuild_tensor_v2</c> describes it: a view of a storage,
/// checked to lie inside it.</summary>
internal sealed record TorchTensorRef(TorchStorageRef Storage, long Offset, int[] Shape, long[] Strides);

/// <summary>The storage types of <c>torch</c> (the persistent ids name them), their sizes, and the
/// conversion of their elements to float or double.</summary>
internal static class TorchDTypes
{
    private static readonly Dictionary<string, TorchDType> StorageTypes = new()
    {
        ["DoubleStorage"] = TorchDType.Float64,
        ["FloatStorage"] = TorchDType.Float32,
        ["HalfStorage"] = TorchDType.Float16,
        ["BFloat16Storage"] = TorchDType.BFloat16,
        ["LongStorage"] = TorchDType.Int64,
        ["IntStorage"] = TorchDType.Int32,
        ["ShortStorage"] = TorchDType.Int16,
        ["CharStorage"] = TorchDType.Int8,
        ["ByteStorage"] = TorchDType.UInt8,
        ["BoolStorage"] = TorchDType.Bool,
        ["UntypedStorage"] = TorchDType.UInt8,
    };

    public static TorchDType FromStorageType(object? type)
    {
        // torch.cuda.*Storage appears in files saved from a GPU by old versions; the bytes are the same.
        if (type is PickleGlobal { Module: "torch" or "torch.cuda" } global && StorageTypes.TryGetValue(global.Name, out var dtype))
            return dtype;
        throw new CheckpointFault(type is PickleGlobal unknown
            ? $"storage type {unknown.FullName} is not supported (supported: {string.Join(", ", StorageTypes.Keys.Select(k => "torch." + k))})."
            : $"a storage's type is {PickleValues.Describe(type)}, not a torch storage class.");
    }

    public static int Size(TorchDType dtype) => dtype switch
    {
        TorchDType.Float64 or TorchDType.Int64 => 8,
        TorchDType.Float32 or TorchDType.Int32 => 4,
        TorchDType.Float16 or TorchDType.BFloat16 or TorchDType.Int16 => 2,
        _ => 1,
    };

    public static string Name(TorchDType dtype) => dtype.ToString().ToLowerInvariant();

    /// <summary>The elements of a view, in row-major order, converted to <typeparamref name="T"/>.
    /// <paramref name="record"/> holds the storage's record; the view was checked to lie inside it.</summary>
    public static T[] Gather<T>(ReadOnlySpan<byte> record, TorchTensorRef tensor)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var values = new T[ShapeMath.Numel(tensor.Shape)];
        if (values.Length == 0) return values;
        var dtype = tensor.Storage.DType;
        int size = Size(dtype);
        var shape = tensor.Shape;
        var strides = tensor.Strides;
        var counter = new int[shape.Length];
        long position = tensor.Storage.Offset + tensor.Offset;
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = Decode<T>(dtype, record.Slice(checked((int)(position * size)), size));
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                position += strides[d];
                if (++counter[d] < shape[d]) break;
                position -= strides[d] * shape[d];
                counter[d] = 0;
            }
        }
        return values;
    }

    private static T Decode<T>(TorchDType dtype, ReadOnlySpan<byte> b) where T : unmanaged, IFloatingPointIeee754<T> => dtype switch
    {
        TorchDType.Float64 => T.CreateChecked(BinaryPrimitives.ReadDoubleLittleEndian(b)),
        TorchDType.Float32 => T.CreateChecked(BinaryPrimitives.ReadSingleLittleEndian(b)),
        TorchDType.Float16 => T.CreateChecked((float)BinaryPrimitives.ReadHalfLittleEndian(b)),
        TorchDType.BFloat16 => T.CreateChecked(BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b) << 16)),
        TorchDType.Int64 => T.CreateChecked(BinaryPrimitives.ReadInt64LittleEndian(b)),
        TorchDType.Int32 => T.CreateChecked(BinaryPrimitives.ReadInt32LittleEndian(b)),
        TorchDType.Int16 => T.CreateChecked(BinaryPrimitives.ReadInt16LittleEndian(b)),
        TorchDType.Int8 => T.CreateChecked((sbyte)b[0]),
        TorchDType.UInt8 => T.CreateChecked(b[0]),
        _ => b[0] != 0 ? T.One : T.Zero,
    };
}

/// <summary>The storages of one checkpoint: parses the persistent ids of its pickle, checks each
/// against the data the file holds, and reads each record once.</summary>
internal abstract class TorchStorages : IDisposable
{
    private readonly Dictionary<string, TorchStorageRef> _declared = [];
    private readonly Dictionary<string, byte[]> _records = [];

    protected IReadOnlyDictionary<string, TorchStorageRef> Declared => _declared;

    /// <summary>A persistent id: <c>('storage', type, key, location, numel)</c>, in the legacy
    /// format followed by <c>view_metadata</c> (None, or <c>(view_key, offset, size)</c>).</summary>
    public TorchStorageRef Resolve(object? pid)
    {
        if (pid is not PickleTuple { Items: var items } || items.Length is < 5 or > 6 || items[0] is not "storage")
            throw new CheckpointFault($"a persistent id is {PickleValues.Describe(pid)}, not ('storage', type, key, location, size).");
        var dtype = TorchDTypes.FromStorageType(items[1]);
        if (items[2] is not string key || items[3] is not string)
            throw new CheckpointFault($"a storage's key and location are {PickleValues.Describe(items[2])} and {PickleValues.Describe(items[3])}, not str.");
        long numel = TorchArguments.Count(items[4], $"the size of storage '{key}'");
        if (numel > long.MaxValue / TorchDTypes.Size(dtype))
            throw new CheckpointFault($"storage '{key}' declares {numel} elements, more bytes than a file can hold.");
        if (_declared.TryGetValue(key, out var root))
        {
            if (root.DType != dtype || root.Numel != numel)
                throw new CheckpointFault(
                    $"storage '{key}' is declared as {numel} {TorchDTypes.Name(dtype)} elements and, before, as {root.Numel} {TorchDTypes.Name(root.DType)}.");
        }
        else
        {
            root = new TorchStorageRef(key, dtype, 0, numel);
            Declare(root);
            _declared.Add(key, root);
        }
        return items.Length == 6 && items[5] is not null ? View(root, items[5]) : root;
    }

    private static TorchStorageRef View(TorchStorageRef root, object? metadata)
    {
        if (metadata is not PickleTuple { Items: [string, var offsetValue, var sizeValue] })
            throw new CheckpointFault($"the view metadata of storage '{root.Key}' is {PickleValues.Describe(metadata)}, not (key, offset, size).");
        long offset = TorchArguments.Count(offsetValue, $"the offset of a view of storage '{root.Key}'");
        long size = TorchArguments.Count(sizeValue, $"the size of a view of storage '{root.Key}'");
        if (offset > root.Numel || size > root.Numel - offset)
            throw new CheckpointFault($"a view of storage '{root.Key}' covers elements [{offset}, {offset} + {size}) of its {root.Numel}.");
        return root with { Offset = offset, Numel = size };
    }

    /// <summary>The whole record of <paramref name="storage"/>'s root, at least as long as declared.</summary>
    public byte[] Bytes(TorchStorageRef storage)
    {
        if (!_records.TryGetValue(storage.Key, out var bytes))
        {
            var root = _declared[storage.Key];
            bytes = ReadRecord(root, root.Numel * TorchDTypes.Size(root.DType));
            _records.Add(storage.Key, bytes);
        }
        return bytes;
    }

    public virtual void Dispose()
    {
    }

    /// <summary>Checks, as far as the format allows at this point, that the file holds the storage's data.</summary>
    protected abstract void Declare(TorchStorageRef storage);

    protected abstract byte[] ReadRecord(TorchStorageRef storage, long byteCount);
}
