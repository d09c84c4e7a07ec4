namespace DeformEngine.IO;

// The values a pickle can hold, as the checkpoint reader keeps them. Python's None is null, bool
// is bool, int is long (BigInteger beyond 64 bits), float is double, str is string, bytes is
// byte[]. Nothing here runs code from the file: a class or function the reader does not know is
// a PickleGlobal, and "calling" it yields a PickleObject that only remembers the name.

/// <summary>A Python list, set or frozenset (kept in the order written).</summary>
internal sealed class PickleList
{
    public List<object?> Items { get; } = [];
}

internal sealed class PickleTuple(object?[] items)
{
    public object?[] Items { get; } = items;
}

/// <summary>A dict or OrderedDict in insertion order. Keys of the primitive types (str, int,
/// float, bool) replace an earlier equal key as in Python; other keys are compared by identity,
/// which needs no recursion into them.</summary>
internal sealed class PickleDict
{
    private readonly List<KeyValuePair<object?, object?>> _entries = [];
    private readonly Dictionary<object, int> _primitiveIndex = [];

    public IReadOnlyList<KeyValuePair<object?, object?>> Entries => _entries;

    public void Set(object? key, object? value)
    {
        if (key is string or long or double or bool or BigInteger)
        {
            if (_primitiveIndex.TryGetValue(key, out int index))
            {
                _entries[index] = new(key, value);
                return;
            }
            _primitiveIndex[key] = _entries.Count;
        }
        _entries.Add(new(key, value));
    }

    public bool TryGet(string key, out object? value)
    {
        if (_primitiveIndex.TryGetValue(key, out int index))
        {
            value = _entries[index].Value;
            return true;
        }
        value = null;
        return false;
    }
}

/// <summary>A reference to a module-level name (GLOBAL, STACK_GLOBAL): a class or a function,
/// never imported.</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    public string FullName => Module + "." + Name;
}

/// <summary>The opaque placeholder of an object whose class the reader does not know: it is never
/// constructed, its arguments and state are dropped, and anything that needs its value fails
/// naming the class.</summary>
internal sealed class PickleObject(PickleGlobal type)
{
    public PickleGlobal Type { get; } = type;
}

internal static class PickleValues
{
    /// <summary>What a value is, for messages; never looks inside containers.</summary>
    public static string Describe(object? value) => value switch
    {
        null => "None",
        bool => "a bool",
        long or BigInteger => "an int",
        double => "a float",
        string => "a str",
        byte[] => "bytes",
        PickleList => "a list",
        PickleTuple => "a tuple",
        PickleDict => "a dict",
        PickleGlobal g => $"the global {g.FullName}",
        PickleObject o => $"an object of class {o.Type.FullName} (not constructed: the reader knows only the classes of tensor checkpoints)",
        TorchStorageRef => "a storage",
        TorchTensorRef => "a tensor",
        _ => value.GetType().Name,
    };
}
