using System.IO.Compression;

namespace DeformEngine.IO;

/// <summary>The zip format of <c>torch.save</c> (PyTorch ≥ 1.6): records <c>&lt;name&gt;/data.pkl</c>
/// (the pickle), <c>&lt;name&gt;/data/&lt;key&gt;</c> (one per storage, raw little-endian) and
/// <c>&lt;name&gt;/version</c>, all stored uncompressed. A record that claims more bytes than it
/// occupies in the file (a compressed one) is refused rather than inflated, so nothing read is
/// larger than the file.</summary>
internal sealed class TorchZipCheckpoint : TorchStorages
{
    private readonly ZipArchive _zip;
    private readonly string _prefix;
    private readonly long _fileLength;

    private TorchZipCheckpoint(ZipArchive zip, string prefix, long fileLength)
    {
        _zip = zip;
        _prefix = prefix;
        _fileLength = fileLength;
    }

    /// <summary>The unpickled object of the archive in <paramref name="file"/> and its storages.</summary>
    public static (object? Root, TorchStorages Storages) Read(Stream file)
    {
        var zip = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true);
        var pickles = zip.Entries.Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal)
            && e.FullName.IndexOf('/', StringComparison.Ordinal) == e.FullName.Length - "/data.pkl".Length).ToList();
        if (pickles.Count != 1)
            throw new CheckpointFault(pickles.Count == 0
                ? "the zip archive has no '<name>/data.pkl' record, so it was not written by torch.save."
                : $"the zip archive has {pickles.Count} '<name>/data.pkl' records.");
        var pickle = pickles[0];
        string prefix = pickle.FullName[..^"data.pkl".Length];
        var checkpoint = new TorchZipCheckpoint(zip, prefix, file.Length);
        // PyTorch ≥ 2.1 records the byte order; older files are little-endian.
        var byteOrder = zip.GetEntry(prefix + "byteorder");
        if (byteOrder is not null && !checkpoint.ReadEntry(byteOrder).AsSpan().SequenceEqual("little"u8))
            throw new CheckpointFault("the checkpoint was saved on a big-endian machine, which the reader does not support.");
        using var pickleStream = new MemoryStream(checkpoint.ReadEntry(pickle), writable: false);
        var root = new PickleReader(pickleStream, pickle.FullName, new TorchPickleResolver(checkpoint)).Read();
        return (root, checkpoint);
    }

    public override void Dispose() => _zip.Dispose();

    protected override void Declare(TorchStorageRef storage)
    {
        var entry = Record(storage);
        long needed = storage.Numel * TorchDTypes.Size(storage.DType);
        if (entry.Length < needed)
            throw new CheckpointFault(
                $"record '{entry.FullName}' holds {entry.Length} bytes, but storage '{storage.Key}' declares {storage.Numel} {TorchDTypes.Name(storage.DType)} elements ({needed} bytes).");
    }

    protected override byte[] ReadRecord(TorchStorageRef storage, long byteCount) => ReadEntry(Record(storage));

    private ZipArchiveEntry Record(TorchStorageRef storage) =>
        _zip.GetEntry(_prefix + "data/" + storage.Key)
        ?? throw new CheckpointFault($"storage '{storage.Key}' has no record '{_prefix}data/{storage.Key}' in the zip archive.");

    private byte[] ReadEntry(ZipArchiveEntry entry)
    {
        if (entry.Length > entry.CompressedLength)
            throw new CheckpointFault(
                $"record '{entry.FullName}' is compressed ({entry.CompressedLength} bytes expand to {entry.Length}); torch.save stores records uncompressed, and the reader does not inflate them.");
        if (entry.Length > _fileLength || entry.Length > Array.MaxLength)
            throw new CheckpointFault($"record '{entry.FullName}' claims {entry.Length} bytes, but the file has {_fileLength}.");
        var bytes = new byte[entry.Length];
        using var stream = entry.Open();
        try
        {
            stream.ReadExactly(bytes);
        }
        catch (EndOfStreamException)
        {
            throw new CheckpointFault($"record '{entry.FullName}' ends before its {entry.Length} bytes (the file is truncated).");
        }
        return bytes;
    }
}
