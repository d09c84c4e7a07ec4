using System.Text;

namespace DeformEngine.IO;

/// <summary>The globals of a tensor checkpoint, interpreted without importing anything: the
/// containers (<c>collections.OrderedDict</c>, sets), the tensor rebuild functions of
/// <c>torch._utils</c> / <c>torch._tensor</c>, <c>torch.Size</c>, <c>torch.device</c> and
/// <c>_codecs.encode</c> (how protocol 2 writes bytes). Any other global becomes a
/// <see cref="PickleObject"/> placeholder; a tensor built from one is an error naming its class.</summary>
internal sealed class TorchPickleResolver(TorchStorages storages) : IPickleResolver
{
    public object? PersistentLoad(object? pid) => storages.Resolve(pid);

    public object? Call(PickleGlobal function, object?[] args) => function.FullName switch
    {
        "collections.OrderedDict" or "builtins.dict" => Dict(function, args),
        "builtins.set" or "builtins.frozenset" or "builtins.list" => List(function, args),
        "_codecs.encode" => Encode(args),
        "torch._utils._rebuild_tensor_v2" or "torch._utils._rebuild_tensor" => RebuildTensor(function, args),
        "torch._utils._rebuild_parameter" or "torch._utils._rebuild_parameter_with_state" =>
            RequireTensor(Argument(function, args, 0), $"the data of {function.FullName}"),
        "torch._tensor._rebuild_from_type_v2" or "torch._tensor._rebuild_from_type" => RebuildFromType(function, args),
        "torch.Size" => Argument(function, args, 0) is PickleTuple sizes ? sizes
            : throw new CheckpointFault($"torch.Size is given {PickleValues.Describe(args[0])}, not a tuple."),
        "torch.device" => Device(args),
        _ => new PickleObject(function),
    };

    public object? New(PickleGlobal type, object?[] args) => type.FullName switch
    {
        "collections.OrderedDict" or "builtins.dict" => new PickleDict(),
        "builtins.set" or "builtins.frozenset" or "builtins.list" => new PickleList(),
        _ => new PickleObject(type),
    };

    private static object? Argument(PickleGlobal function, object?[] args, int index) =>
        index < args.Length ? args[index]
            : throw new CheckpointFault($"{function.FullName} is given {args.Length} arguments, it needs at least {index + 1}.");

    private static PickleDict Dict(PickleGlobal function, object?[] args)
    {
        var dict = new PickleDict();
        if (args.Length == 0) return dict;
        var pairs = args[0] switch
        {
            PickleList list => list.Items.ToArray(),
            PickleTuple tuple => tuple.Items,
            var other => throw new CheckpointFault($"{function.FullName} is given {PickleValues.Describe(other)}, not a list of pairs."),
        };
        foreach (var pair in pairs)
        {
            if (pair is not PickleTuple { Items: [var key, var value] })
                throw new CheckpointFault($"{function.FullName} is given {PickleValues.Describe(pair)} where a (key, value) pair belongs.");
            dict.Set(key, value);
        }
        return dict;
    }

    private static PickleList List(PickleGlobal function, object?[] args)
    {
        var list = new PickleList();
        if (args.Length == 0) return list;
        list.Items.AddRange(args[0] switch
        {
            PickleList items => items.Items,
            PickleTuple tuple => tuple.Items,
            var other => throw new CheckpointFault($"{function.FullName} is given {PickleValues.Describe(other)}, not a list."),
        });
        return list;
    }

    /// <summary>Protocol 2 writes a bytes object as <c>_codecs.encode(text, 'latin1')</c>.</summary>
    private static byte[] Encode(object?[] args)
    {
        if (args is not [string text, "latin1" or "latin-1"])
            throw new CheckpointFault("_codecs.encode is given arguments other than (str, 'latin1').");
        if (text.Any(c => c > 0xFF)) throw new CheckpointFault("_codecs.encode is given a str that is not Latin-1.");
        return Encoding.Latin1.GetBytes(text);
    }

    private static string Device(object?[] args) => args switch
    {
        [string type] => type,
        [string type, long index] => $"{type}:{index}",
        [string type, null] => type,
        _ => throw new CheckpointFault("torch.device is given arguments other than (type) or (type, index)."),
    };

    private static TorchTensorRef RequireTensor(object? value, string what) => value switch
    {
        TorchTensorRef tensor => tensor,
        PickleObject placeholder => throw new CheckpointFault(
            $"{what} is an object of class {placeholder.Type.FullName}, which the reader does not construct (it reads the tensors of torch checkpoints only)."),
        _ => throw new CheckpointFault($"{what} is {PickleValues.Describe(value)}, not a tensor."),
    };

    /// <summary><c>_rebuild_from_type_v2(func, new_type, args, state)</c>: a tensor whose Python
    /// class is <c>torch.Tensor</c> or <c>torch.nn.Parameter</c>, rebuilt by <c>func(*args)</c>.</summary>
    private object? RebuildFromType(PickleGlobal function, object?[] args)
    {
        var type = Argument(function, args, 1);
        if (type is not PickleGlobal { FullName: "torch.Tensor" or "torch.nn.parameter.Parameter" })
            throw new CheckpointFault($"a tensor of class {(type as PickleGlobal)?.FullName ?? PickleValues.Describe(type)} is not supported (torch.Tensor and torch.nn.Parameter are).");
        if (Argument(function, args, 0) is not PickleGlobal inner || Argument(function, args, 2) is not PickleTuple innerArgs)
            throw new CheckpointFault($"{function.FullName} is not given a function and a tuple of arguments.");
        return RequireTensor(Call(inner, innerArgs.Items), $"the tensor of {function.FullName}");
    }

    /// <summary><c>_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
    /// backward_hooks[, metadata])</c>. The view must lie inside the storage, and may not hold more
    /// elements than the storage (a broadcast view would allocate more than the file justifies).</summary>
    private static TorchTensorRef RebuildTensor(PickleGlobal function, object?[] args)
    {
        var storage = Argument(function, args, 0) switch
        {
            TorchStorageRef s => s,
            PickleObject placeholder => throw new CheckpointFault(
                $"a tensor's storage is an object of class {placeholder.Type.FullName}, which the reader does not construct."),
            var other => throw new CheckpointFault($"a tensor's storage is {PickleValues.Describe(other)}, not a storage."),
        };
        string where = $"a tensor of storage '{storage.Key}'";
        long offset = TorchArguments.Count(Argument(function, args, 1), $"the storage offset of {where}");
        var shapeValues = TorchArguments.Counts(Argument(function, args, 2), $"the size of {where}");
        var strides = TorchArguments.Counts(Argument(function, args, 3), $"the stride of {where}");
        if (strides.Length != shapeValues.Length)
            throw new CheckpointFault($"{where} has {shapeValues.Length} sizes but {strides.Length} strides.");
        var shape = new int[shapeValues.Length];
        long numel = 1;
        for (int d = 0; d < shape.Length; d++)
        {
            if (shapeValues[d] > int.MaxValue)
                throw new CheckpointFault($"{where} has a dimension of {shapeValues[d]}, more than a tensor can hold.");
            shape[d] = (int)shapeValues[d];
            numel = numel == 0 || shapeValues[d] == 0 ? 0
                : shapeValues[d] > Array.MaxLength / numel ? long.MaxValue : numel * shapeValues[d];
        }
        string view = $"{where} (size {ShapeMath.Format(shape)}, stride [{string.Join(", ", strides)}], offset {offset})";
        if (numel > Array.MaxLength)
            throw new CheckpointFault($"{view} has more elements than an array can hold.");
        if (numel > 0)
        {
            // The last element the view reaches; past long's range it is certainly outside the storage.
            long last = offset;
            for (int d = 0; d < shape.Length && last < storage.Numel; d++)
            {
                long span = strides[d] == 0 || shape[d] <= 1 ? 0
                    : strides[d] > (long.MaxValue - last) / (shape[d] - 1) ? long.MaxValue - last : strides[d] * (shape[d] - 1);
                last += span;
            }
            if (last >= storage.Numel)
                throw new CheckpointFault($"{view} reaches past the {storage.Numel} elements of its storage.");
            if (numel > storage.Numel)
                throw new CheckpointFault(
                    $"{view} has {numel} elements but its storage only {storage.Numel} (a broadcast view); the reader allocates no more than the file holds.");
        }
        return new TorchTensorRef(storage, offset, shape, strides);
    }
}

/// <summary>Integer arguments of the pickle: counts, sizes and strides.</summary>
internal static class TorchArguments
{
    public static long Count(object? value, string what) => value switch
    {
        long n and >= 0 => n,
        long n => throw new CheckpointFault($"{what} is negative ({n})."),
        BigInteger n => throw new CheckpointFault($"{what} ({PickleReader.Shorten(n.ToString(System.Globalization.CultureInfo.InvariantCulture))}) overflows 64 bits."),
        _ => throw new CheckpointFault($"{what} is {PickleValues.Describe(value)}, not an int."),
    };

    public static long[] Counts(object? value, string what)
    {
        var items = value switch
        {
            PickleTuple tuple => tuple.Items,
            PickleList list => list.Items.ToArray(),
            _ => throw new CheckpointFault($"{what} is {PickleValues.Describe(value)}, not a tuple of ints."),
        };
        return items.Select(item => Count(item, what)).ToArray();
    }
}
