using DeformEngine.NN;

namespace DeformEngine.IO;

/// <summary>Reads the <c>.pth</c> files of <c>torch.save</c>: the zip format (PyTorch ≥ 1.6) and the
/// legacy format (<c>_use_new_zipfile_serialization=False</c>), storages of float32, float64,
/// float16, bfloat16, int64/32/16/8, uint8 and bool converted to the requested type (so int64
/// buffers such as <c>num_batches_tracked</c> load as they do from safetensors), tensors that are
/// views (storage offset, any strides) and storages shared by several tensors.
/// <para>The state dict is the checkpoint itself, or the dict under <c>state_dict</c> (mmcv and
/// mmengine, whose <c>meta</c> is skipped) or <c>model</c>; a leading <c>module.</c> (DataParallel)
/// is removed from each name.</para>
/// <para>Safe by construction: the pickle reader executes nothing. It interprets the opcodes and
/// the few globals a tensor checkpoint needs (containers, <c>OrderedDict</c>, the tensor rebuild
/// functions, storage types, <c>torch.Size</c>, <c>torch.device</c>); any other class stays an
/// opaque placeholder that is never instantiated, and a tensor that depends on one is an error naming
/// the class. A malformed or hostile file (truncated, a pickle that calls <c>os.system</c>, a tensor
/// outside its storage, overflowing sizes, deep nesting, huge memo indices) throws
/// <see cref="InvalidDataException"/> naming the file and the fault, and nothing is allocated that
/// the file's length does not justify.</para></summary>
public static class TorchCheckpoint
{
    private const string DataParallelPrefix = "module.";

    /// <summary>The tensors of the checkpoint's state dict by dotted name, in the order of the
    /// file, converted to <typeparamref name="T"/>.</summary>
    public static OrderedDictionary<string, Tensor<T>> Load<T>(string path)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        try
        {
            var (root, storages) = Open(file);
            using (storages)
            {
                var result = new OrderedDictionary<string, Tensor<T>>();
                foreach (var (name, tensor) in StateDict(root))
                    result.Add(name, Tensor<T>.Wrap(TorchDTypes.Gather<T>(storages.Bytes(tensor.Storage), tensor), (int[])tensor.Shape.Clone()));
                return result;
            }
        }
        catch (CheckpointFault fault)
        {
            throw new InvalidDataException($"{path}: cannot read the PyTorch checkpoint: {fault.Message}");
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            // Raised by the zip reader on a damaged archive (a truncated file loses its central directory).
            throw new InvalidDataException($"{path}: cannot read the PyTorch checkpoint: the file is damaged ({e.Message})", e);
        }
    }

    /// <summary>Loads a <c>.pth</c> checkpoint into the module by name, as
    /// <see cref="Module{T}.LoadStateDict"/> does (a shape mismatch always throws; with
    /// <paramref name="strict"/> so do missing and unexpected names). With <paramref name="prefix"/>
    /// only the names that start with it are used, without it: <c>prefix: "backbone."</c> loads the
    /// backbone of an mmdetection detector.</summary>
    public static StateDictLoadResult LoadTorchCheckpoint<T>(this Module<T> module, string path, bool strict = true, string? prefix = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(module);
        if (prefix is { Length: 0 }) throw new ArgumentException("prefix: expected null or a non-empty prefix such as 'backbone.', got ''.", nameof(prefix));
        var tensors = Load<T>(path);
        if (prefix is null) return module.LoadStateDict(tensors, strict);
        var selected = new OrderedDictionary<string, Tensor<T>>();
        foreach (var (name, tensor) in tensors)
            if (name.StartsWith(prefix, StringComparison.Ordinal)) selected.Add(name[prefix.Length..], tensor);
        if (selected.Count == 0)
            throw new ArgumentException(
                $"prefix: no name in {path} starts with '{prefix}'; the names start like: {string.Join(", ", tensors.Keys.Take(5))}.", nameof(prefix));
        return module.LoadStateDict(selected, strict);
    }

    private static (object? Root, TorchStorages Storages) Open(FileStream file)
    {
        Span<byte> head = stackalloc byte[4];
        int read = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        file.Seek(0, SeekOrigin.Begin);
        if (read >= 4 && head[0] == 'P' && head[1] == 'K')
            return TorchZipCheckpoint.Read(file);
        // PROTO opens a pickle of protocol 2 (torch.save's default) or above; protocol 1 writes the
        // 80-bit magic number with the text opcode LONG.
        if (read >= 2 && (head[0] == 0x80 || head[0] == 'L'))
            return TorchLegacyCheckpoint.Read(file);
        if (IsTar(file))
            throw new CheckpointFault("it is a tar archive, the format of PyTorch before 0.4, which the reader does not support.");
        throw new CheckpointFault(
            $"it is neither a zip archive (torch.save since PyTorch 1.6) nor a legacy torch.save stream: it starts with bytes {Convert.ToHexString(head[..read])}.");
    }

    private static bool IsTar(FileStream file)
    {
        Span<byte> magic = stackalloc byte[5];
        if (file.Length < 262) return false;
        file.Seek(257, SeekOrigin.Begin);
        file.ReadExactly(magic);
        return magic.SequenceEqual("ustar"u8);
    }

    /// <summary>The tensors of the state dict, names without DataParallel's prefix.</summary>
    private static List<(string Name, TorchTensorRef Tensor)> StateDict(object? root)
    {
        if (root is not PickleDict top)
            throw new CheckpointFault($"the checkpoint holds {PickleValues.Describe(root)}, not a dict of tensors{Hint(root)}.");
        var state = top;
        string where = "the checkpoint";
        foreach (var key in new[] { "state_dict", "model" })
        {
            if (!top.TryGet(key, out var inner) || inner is TorchTensorRef) continue;
            state = inner as PickleDict
                ?? throw new CheckpointFault($"'{key}' holds {PickleValues.Describe(inner)}, not a dict of tensors{Hint(inner)}.");
            where = $"'{key}'";
            break;
        }
        var tensors = new List<(string, TorchTensorRef)>();
        var names = new HashSet<string>();
        foreach (var (key, value) in state.Entries)
        {
            if (key is not string name) throw new CheckpointFault($"{where} has a key that is {PickleValues.Describe(key)}, not a name.");
            if (value is not TorchTensorRef tensor)
                throw new CheckpointFault($"entry '{name}' of {where} is {PickleValues.Describe(value)}, not a tensor.");
            if (name.StartsWith(DataParallelPrefix, StringComparison.Ordinal)) name = name[DataParallelPrefix.Length..];
            if (!names.Add(name)) throw new CheckpointFault($"{where} holds '{name}' twice (with and without '{DataParallelPrefix}').");
            tensors.Add((name, tensor));
        }
        return tensors;
    }

    private static string Hint(object? value) => value switch
    {
        PickleObject { Type.Module: var module } when module.StartsWith("__torch__", StringComparison.Ordinal) =>
            " (a TorchScript archive of torch.jit.save holds code, not a state dict)",
        PickleObject => " (a pickled object, such as a whole module saved by torch.save(model): save model.state_dict() instead)",
        _ => "",
    };
}
