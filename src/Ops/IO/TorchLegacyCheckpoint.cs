using System.Buffers.Binary;

namespace DeformEngine.IO;

/// <summary>The legacy format of <c>torch.save</c> (<c>_use_new_zipfile_serialization=False</c>,
/// the only one before PyTorch 1.6): five consecutive parts, pickles of the magic number, the
/// protocol version (1001) and the system info, the main pickle, a pickle of the storage keys,
/// then for each key its element count (int64) and its raw little-endian bytes. The records are
/// located and checked against the file's length before any is read.</summary>
internal sealed class TorchLegacyCheckpoint(Stream file) : TorchStorages
{
    private static readonly BigInteger MagicNumber = BigInteger.Parse("1950a86a20f9469cfc6c", System.Globalization.NumberStyles.HexNumber);
    private const long ProtocolVersion = 1001;

    private readonly Dictionary<string, long> _recordPositions = [];

    public static (object? Root, TorchStorages Storages) Read(Stream file)
    {
        var checkpoint = new TorchLegacyCheckpoint(file);
        var resolver = new TorchPickleResolver(checkpoint);
        var magic = new PickleReader(file, "the magic-number pickle", resolver).Read();
        if (!(magic is BigInteger number && number == MagicNumber))
            throw new CheckpointFault($"the file starts with a pickle of {PickleValues.Describe(magic)}, not torch.save's magic number.");
        var protocol = new PickleReader(file, "the protocol pickle", resolver).Read();
        if (protocol is not ProtocolVersion)
            throw new CheckpointFault(
                $"the legacy protocol version is {(protocol is long version ? version.ToString(System.Globalization.CultureInfo.InvariantCulture) : PickleValues.Describe(protocol))}, the reader knows {ProtocolVersion}.");
        var systemInfo = new PickleReader(file, "the system-info pickle", resolver).Read();
        if (systemInfo is PickleDict info && info.TryGet("little_endian", out var littleEndian) && littleEndian is false)
            throw new CheckpointFault("the checkpoint was saved on a big-endian machine, which the reader does not support.");
        var root = new PickleReader(file, "the main pickle", resolver).Read();
        checkpoint.LocateRecords(new PickleReader(file, "the storage-key pickle", resolver).Read());
        return (root, checkpoint);
    }

    protected override void Declare(TorchStorageRef storage)
    {
        // The records follow the pickle: LocateRecords checks them once they can be read.
    }

    private void LocateRecords(object? keys)
    {
        if (keys is not PickleList list)
            throw new CheckpointFault($"the storage keys are {PickleValues.Describe(keys)}, not a list.");
        var count = new byte[8];
        foreach (var item in list.Items)
        {
            if (item is not string key) throw new CheckpointFault($"a storage key is {PickleValues.Describe(item)}, not a str.");
            if (!Declared.TryGetValue(key, out var storage))
                throw new CheckpointFault($"the file has a record for storage '{key}', which no tensor declares.");
            if (_recordPositions.ContainsKey(key)) throw new CheckpointFault($"the file has two records for storage '{key}'.");
            long at = file.Position;
            if (file.Length - at < 8)
                throw new CheckpointFault($"the record of storage '{key}' at byte {at} is cut off before its element count (the file is truncated).");
            file.ReadExactly(count);
            long numel = BinaryPrimitives.ReadInt64LittleEndian(count);
            if (numel != storage.Numel)
                throw new CheckpointFault($"the record of storage '{key}' at byte {at} holds {numel} elements, the pickle declares {storage.Numel}.");
            long bytes = numel * TorchDTypes.Size(storage.DType);
            if (bytes > file.Length - file.Position)
                throw new CheckpointFault(
                    $"the record of storage '{key}' at byte {at} needs {bytes} bytes, but only {file.Length - file.Position} remain (the file is truncated).");
            _recordPositions.Add(key, file.Position);
            file.Seek(bytes, SeekOrigin.Current);
        }
        foreach (var key in Declared.Keys)
            if (!_recordPositions.ContainsKey(key))
                throw new CheckpointFault($"storage '{key}' has no record in the file.");
    }

    protected override byte[] ReadRecord(TorchStorageRef storage, long byteCount)
    {
        if (byteCount > Array.MaxLength)
            throw new CheckpointFault($"storage '{storage.Key}' has {byteCount} bytes, more than the reader can hold at once.");
        var bytes = new byte[byteCount];
        file.Seek(_recordPositions[storage.Key], SeekOrigin.Begin);
        file.ReadExactly(bytes);
        return bytes;
    }
}
