using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace DeformEngine.IO;

/// <summary>A fault found in a checkpoint; <see cref="TorchCheckpoint"/> turns it into an
/// <see cref="InvalidDataException"/> that names the file.</summary>
internal sealed class CheckpointFault(string message) : Exception(message);

/// <summary>What the values of a pickle mean beyond plain data: the persistent ids (storages) and
/// the few globals the reader interprets. Everything else stays a placeholder.</summary>
internal interface IPickleResolver
{
    object? PersistentLoad(object? pid);

    /// <summary>REDUCE, INST and OBJ: <c>function(*args)</c>.</summary>
    object? Call(PickleGlobal function, object?[] args);

    /// <summary>NEWOBJ: <c>type.__new__(type, *args)</c>, which for the known containers is empty.</summary>
    object? New(PickleGlobal type, object?[] args);
}

/// <summary>A pickle virtual machine (protocols 0–5) that executes nothing: it builds plain values,
/// and leaves every class and function to an <see cref="IPickleResolver"/>. Every length is checked
/// against the bytes that remain before anything is allocated, the MARK nesting is bounded, the memo
/// is a dictionary (a huge index costs nothing), and no step recurses, so a hostile pickle can neither
/// run code nor exhaust the stack or the memory.</summary>
internal sealed class PickleReader(Stream input, string label, IPickleResolver resolver)
{
    /// <summary>Deepest nesting of open MARKs; tensor checkpoints nest a handful of levels.</summary>
    public const int MaxNesting = 1000;

    private const int HighestProtocol = 5;

    private readonly List<object?> _stack = [];
    private readonly List<int> _marks = [];
    private readonly Dictionary<long, object?> _memo = [];
    private readonly byte[] _small = new byte[8];
    private long _opcodeAt;

    private long Remaining => input.Length - input.Position;

    /// <summary>Reads one pickle, up to and including its STOP, from the current position.</summary>
    public object? Read()
    {
        try
        {
            return Run();
        }
        catch (CheckpointFault fault)
        {
            throw new CheckpointFault($"{label}, byte {_opcodeAt}: {fault.Message}");
        }
    }

    private object? Run()
    {
        while (true)
        {
            _opcodeAt = input.Position;
            int opcode = input.ReadByte();
            if (opcode < 0) throw new CheckpointFault("the pickle ends without a STOP opcode (the file is truncated).");
            switch (opcode)
            {
                case '.': return Pop();
                case 0x80: Protocol(); break;
                case 0x95: Frame(); break;
                case '(': Mark(); break;
                case '0': PopTop(); break;
                case '1': PopMark(); break;
                case '2': Push(Peek()); break;

                case 'N': Push(null); break;
                case 0x88: Push(true); break;
                case 0x89: Push(false); break;
                case 'I': Push(TextInt(ReadLine())); break;
                case 'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadSmall(4))); break;
                case 'K': Push((long)ReadSmall(1)[0]); break;
                case 'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadSmall(2))); break;
                case 'L': Push(TextLong(ReadLine())); break;
                case 0x8a: Push(BinaryLong(ReadSmall(1)[0])); break;
                case 0x8b: Push(BinaryLong(BinaryPrimitives.ReadInt32LittleEndian(ReadSmall(4)))); break;
                case 'F': Push(TextFloat(ReadLine())); break;
                case 'G': Push(BinaryPrimitives.ReadDoubleBigEndian(ReadSmall(8))); break;

                case 'S': Push(PickleText.QuotedString(ReadLine())); break;
                case 'T': Push(Latin1(ReadBytes(BinaryPrimitives.ReadInt32LittleEndian(ReadSmall(4)), "a string"))); break;
                case 'U': Push(Latin1(ReadBytes(ReadSmall(1)[0], "a string"))); break;
                case 'V': Push(PickleText.RawUnicodeEscape(ReadLineBytes())); break;
                case 'X': Push(Utf8(ReadBytes(BinaryPrimitives.ReadUInt32LittleEndian(ReadSmall(4)), "a string"))); break;
                case 0x8c: Push(Utf8(ReadBytes(ReadSmall(1)[0], "a string"))); break;
                case 0x8d: Push(Utf8(ReadBytes(ReadUInt64(), "a string"))); break;
                case 'B': Push(ReadBytes(BinaryPrimitives.ReadUInt32LittleEndian(ReadSmall(4)), "a bytes object")); break;
                case 'C': Push(ReadBytes(ReadSmall(1)[0], "a bytes object")); break;
                case 0x8e: Push(ReadBytes(ReadUInt64(), "a bytes object")); break;
                case 0x96: Push(ReadBytes(ReadUInt64(), "a bytearray")); break;

                case ')': Push(new PickleTuple([])); break;
                case 't': Push(new PickleTuple(PopMark())); break;
                case 0x85: Push(new PickleTuple(PopN(1))); break;
                case 0x86: Push(new PickleTuple(PopN(2))); break;
                case 0x87: Push(new PickleTuple(PopN(3))); break;
                case ']': Push(new PickleList()); break;
                case 'l': Push(ListOf(PopMark())); break;
                case 'a': Append(Pop()); break;
                case 'e': foreach (var item in PopMark()) Append(item); break;
                case '}': Push(new PickleDict()); break;
                case 'd': Push(DictOf(PopMark())); break;
                case 's': SetItems(PopN(2)); break;
                case 'u': SetItems(PopMark()); break;
                case 0x8f: Push(new PickleList()); break;
                case 0x90: foreach (var item in PopMark()) Append(item); break;
                case 0x91: Push(ListOf(PopMark())); break;

                case 'p': Put(TextIndex(ReadLine())); break;
                case 'q': Put(ReadSmall(1)[0]); break;
                case 'r': Put(BinaryPrimitives.ReadUInt32LittleEndian(ReadSmall(4))); break;
                case 0x94: Put(_memo.Count); break;
                case 'g': Get(TextIndex(ReadLine())); break;
                case 'h': Get(ReadSmall(1)[0]); break;
                case 'j': Get(BinaryPrimitives.ReadUInt32LittleEndian(ReadSmall(4))); break;

                case 'c': Push(Global(ReadLine(), ReadLine())); break;
                case 0x93: StackGlobal(); break;
                case 'R': Reduce(); break;
                case 'b': Build(); break;
                case 'i': Push(Call(Global(ReadLine(), ReadLine()), PopMark())); break;
                case 'o': Obj(PopMark()); break;
                case 0x81: NewObject(PopN(2)); break;
                case 0x92: NewObject(PopN(3)); break;
                case 'P': Push(resolver.PersistentLoad(ReadLine())); break;
                case 'Q': Push(resolver.PersistentLoad(Pop())); break;

                case 0x82 or 0x83 or 0x84:
                    throw new CheckpointFault($"opcode 0x{opcode:x2} (EXT) names an object through the copyreg extension registry, which the reader does not support.");
                case 0x97 or 0x98:
                    throw new CheckpointFault($"opcode 0x{opcode:x2} refers to an out-of-band buffer, which a file cannot carry.");
                default:
                    throw new CheckpointFault($"unknown pickle opcode 0x{opcode:x2}.");
            }
        }
    }

    // ---- stack and marks ------------------------------------------------------------------

    private int MarkBase => _marks.Count > 0 ? _marks[^1] : 0;

    private void Push(object? value) => _stack.Add(value);

    private object? Peek()
    {
        if (_stack.Count <= MarkBase) throw new CheckpointFault("an opcode needs a value, but the stack is empty.");
        return _stack[^1];
    }

    private object? Pop()
    {
        var value = Peek();
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private object?[] PopN(int count)
    {
        if (_stack.Count - MarkBase < count)
            throw new CheckpointFault($"an opcode needs {count} values, but the stack holds {_stack.Count - MarkBase}.");
        var items = _stack.GetRange(_stack.Count - count, count).ToArray();
        _stack.RemoveRange(_stack.Count - count, count);
        return items;
    }

    private void Mark()
    {
        if (_marks.Count >= MaxNesting)
            throw new CheckpointFault($"the pickle nests deeper than {MaxNesting} levels (a recursion bomb, or not a checkpoint).");
        _marks.Add(_stack.Count);
    }

    private object?[] PopMark()
    {
        if (_marks.Count == 0) throw new CheckpointFault("an opcode closes a MARK that was never opened.");
        int begin = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        var items = _stack.GetRange(begin, _stack.Count - begin).ToArray();
        _stack.RemoveRange(begin, _stack.Count - begin);
        return items;
    }

    private void PopTop()
    {
        if (_stack.Count > MarkBase) _stack.RemoveAt(_stack.Count - 1);
        else PopMark();
    }

    // ---- memo ---------------------------------------------------------------------------------

    private void Put(long index) => _memo[index] = Peek();

    private void Get(long index)
    {
        if (!_memo.TryGetValue(index, out var value))
            throw new CheckpointFault($"memo entry {index} is read but was never stored.");
        Push(value);
    }

    // ---- containers ---------------------------------------------------------------------------

    private static PickleList ListOf(object?[] items)
    {
        var list = new PickleList();
        list.Items.AddRange(items);
        return list;
    }

    private static PickleDict DictOf(object?[] items)
    {
        var dict = new PickleDict();
        AddPairs(dict, items);
        return dict;
    }

    private static void AddPairs(PickleDict dict, object?[] items)
    {
        if (items.Length % 2 != 0) throw new CheckpointFault($"a dict is given {items.Length} values, not key-value pairs.");
        for (int i = 0; i < items.Length; i += 2) dict.Set(items[i], items[i + 1]);
    }

    private void Append(object? item)
    {
        switch (Peek())
        {
            case PickleList list: list.Items.Add(item); break;
            case PickleObject: break;
            case var target: throw new CheckpointFault($"an item is appended to {PickleValues.Describe(target)}.");
        }
    }

    private void SetItems(object?[] items)
    {
        switch (Peek())
        {
            case PickleDict dict: AddPairs(dict, items); break;
            case PickleObject: if (items.Length % 2 != 0) throw new CheckpointFault("SETITEMS is given an odd number of values."); break;
            case var target: throw new CheckpointFault($"items are set on {PickleValues.Describe(target)}.");
        }
    }

    // ---- objects ------------------------------------------------------------------------------

    private static PickleGlobal Global(string module, string name) => new(module switch
    {
        // Protocols 0–2 written by Python 3 use the Python 2 names (pickle's fix_imports).
        "__builtin__" => "builtins",
        "copy_reg" => "copyreg",
        _ => module,
    }, name);

    private void StackGlobal()
    {
        var items = PopN(2);
        if (items[0] is not string module || items[1] is not string name)
            throw new CheckpointFault($"STACK_GLOBAL needs two str, got {PickleValues.Describe(items[0])} and {PickleValues.Describe(items[1])}.");
        Push(Global(module, name));
    }

    private void Reduce()
    {
        var items = PopN(2);
        if (items[1] is not PickleTuple args)
            throw new CheckpointFault($"REDUCE needs a tuple of arguments, got {PickleValues.Describe(items[1])}.");
        Push(Call(items[0], args.Items));
    }

    private void Obj(object?[] items)
    {
        if (items.Length == 0) throw new CheckpointFault("OBJ needs a class.");
        Push(Call(items[0], items[1..]));
    }

    private object? Call(object? callable, object?[] args) => callable switch
    {
        PickleGlobal function => resolver.Call(function, args),
        // Calling a placeholder yields a placeholder of the same class: still nothing runs.
        PickleObject placeholder => new PickleObject(placeholder.Type),
        _ => throw new CheckpointFault($"{PickleValues.Describe(callable)} is called, which is not a class or function."),
    };

    private void NewObject(object?[] items)
    {
        if (items[1] is not PickleTuple args)
            throw new CheckpointFault($"NEWOBJ needs a tuple of arguments, got {PickleValues.Describe(items[1])}.");
        Push(items[0] switch
        {
            PickleGlobal type => resolver.New(type, args.Items),
            PickleObject placeholder => new PickleObject(placeholder.Type),
            var other => throw new CheckpointFault($"NEWOBJ is applied to {PickleValues.Describe(other)}, which is not a class."),
        });
    }

    /// <summary>BUILD sets an object's state. The state of a dict (an OrderedDict's <c>_metadata</c>),
    /// of a tensor (its Python attributes) and of a placeholder is not needed and dropped.</summary>
    private void Build()
    {
        Pop();
        var target = Peek();
        if (target is not (PickleDict or PickleObject or TorchTensorRef))
            throw new CheckpointFault($"BUILD sets the state of {PickleValues.Describe(target)}; the reader expects a dict, tensor or object there.");
    }

    // ---- reading ------------------------------------------------------------------------------

    private void Protocol()
    {
        int version = ReadSmall(1)[0];
        if (version > HighestProtocol)
            throw new CheckpointFault($"pickle protocol {version} is newer than the {HighestProtocol} the reader knows.");
    }

    private void Frame()
    {
        ulong length = ReadUInt64();
        if (length > (ulong)Remaining)
            throw new CheckpointFault($"a frame of {length} bytes runs past the end of the pickle ({Remaining} bytes left).");
    }

    private ReadOnlySpan<byte> ReadSmall(int count)
    {
        if (count > Remaining) throw new CheckpointFault($"an opcode needs {count} more bytes, but the pickle ends (the file is truncated).");
        input.ReadExactly(_small, 0, count);
        return _small.AsSpan(0, count);
    }

    private ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(ReadSmall(8));

    private byte[] ReadBytes(long length, string what)
    {
        if (length < 0) throw new CheckpointFault($"{what} has a negative length ({length}).");
        if (length > Remaining)
            throw new CheckpointFault($"{what} of {length} bytes runs past the end of the pickle ({Remaining} bytes left).");
        var bytes = new byte[length];
        input.ReadExactly(bytes);
        return bytes;
    }

    private byte[] ReadBytes(ulong length, string what) =>
        length > long.MaxValue ? throw new CheckpointFault($"{what} of {length} bytes runs past the end of the pickle ({Remaining} bytes left).")
            : ReadBytes((long)length, what);

    private byte[] ReadLineBytes()
    {
        var line = new List<byte>();
        while (true)
        {
            int b = input.ReadByte();
            if (b < 0) throw new CheckpointFault("a text argument runs past the end of the pickle (no newline).");
            if (b == '\n') return line.ToArray();
            line.Add((byte)b);
        }
    }

    private string ReadLine() => Utf8(ReadLineBytes());

    private static string Utf8(byte[] bytes)
    {
        try
        {
            return new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new CheckpointFault($"a string of {bytes.Length} bytes is not valid UTF-8.");
        }
    }

    private static string Latin1(byte[] bytes) => Encoding.Latin1.GetString(bytes);

    // ---- numbers ------------------------------------------------------------------------------

    private static object Integer(BigInteger value) =>
        value >= long.MinValue && value <= long.MaxValue ? (object)(long)value : value;

    private object BinaryLong(int length) => Integer(new BigInteger(ReadBytes(length, "an int"), isUnsigned: false, isBigEndian: false));

    private static object TextInt(string text) => text switch
    {
        "00" => false,
        "01" => true,
        _ => TextLong(text),
    };

    private static object TextLong(string text)
    {
        var digits = text.EndsWith('L') ? text[..^1] : text;
        if (digits.Length == 0 || !BigInteger.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            throw new CheckpointFault($"'{Shorten(text)}' is not an integer.");
        return Integer(value);
    }

    private static long TextIndex(string text) =>
        TextLong(text) is long index && index >= 0 ? index : throw new CheckpointFault($"'{Shorten(text)}' is not a memo index.");

    private static double TextFloat(string text) => text switch
    {
        "inf" => double.PositiveInfinity,
        "-inf" => double.NegativeInfinity,
        "nan" => double.NaN,
        _ => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            ? value : throw new CheckpointFault($"'{Shorten(text)}' is not a float."),
    };

    internal static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
