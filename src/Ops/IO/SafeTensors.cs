using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using DeformEngine.NN;

namespace DeformEngine.IO;

/// <summary>Reads and writes the safetensors format: an 8-byte little-endian header length N, N
/// bytes of UTF-8 JSON mapping each tensor name to {dtype, shape, data_offsets} (plus an optional
/// "__metadata__" object of strings), then the raw little-endian data. Files are written in the
/// tensor type's dtype (F32 or F64); on reading, F64/F32/F16/BF16 and the integer and BOOL dtypes
/// convert to the requested type, so PyTorch state dicts (with their int64
/// <c>num_batches_tracked</c>) load. A malformed file throws <see cref="InvalidDataException"/>
/// saying what is wrong and where.</summary>
public static class SafeTensors
{
    private const string MetadataKey = "__metadata__";

    /// <summary>Upper bound of the header, as in the reference implementation (100 MB).</summary>
    private const long MaxHeaderBytes = 100_000_000;

    /// <summary>Writes <paramref name="tensors"/> (from any device) to <paramref name="path"/> as a safetensors file in
    /// <typeparamref name="T"/>'s dtype, replacing any file there.</summary>
    /// <param name="path">The file to write.</param>
    /// <param name="tensors">Names and tensors, such as a module's <see cref="Module{T}.StateDict"/>; the data is laid
    /// out in this order.</param>
    /// <param name="metadata">Strings stored under "__metadata__"; null for none.</param>
    /// <exception cref="ArgumentException">An empty path, an empty, reserved or repeated name, or a null
    /// tensor.</exception>
    public static void Save<T>(string path, IEnumerable<KeyValuePair<string, Tensor<T>>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        File.WriteAllBytes(path, Serialize(tensors, metadata));
    }

    /// <summary>The safetensors bytes of <paramref name="tensors"/> (from any device), in <typeparamref name="T"/>'s
    /// dtype.</summary>
    /// <param name="tensors">Names and tensors; the data is laid out in this order.</param>
    /// <param name="metadata">Strings stored under "__metadata__"; null for none.</param>
    /// <exception cref="ArgumentException">An empty, reserved or repeated name, or a null tensor.</exception>
    public static byte[] Serialize<T>(IEnumerable<KeyValuePair<string, Tensor<T>>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var entries = tensors.ToList();
        var names = new HashSet<string>();
        foreach (var (name, tensor) in entries)
        {
            if (string.IsNullOrEmpty(name) || name == MetadataKey)
                throw new ArgumentException($"tensors: '{name}' cannot be used as a tensor name.", nameof(tensors));
            if (!names.Add(name))
                throw new ArgumentException($"tensors: the name '{name}' appears twice.", nameof(tensors));
            ArgumentNullException.ThrowIfNull(tensor, $"tensors['{name}']");
        }
        var dtype = DType.Of<T>();
        int elementSize = DType.Size(dtype);

        using var headerStream = new MemoryStream();
        using (var json = new Utf8JsonWriter(headerStream))
        {
            json.WriteStartObject();
            if (metadata is not null)
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, tensor) in entries)
            {
                long bytes = (long)tensor.Numel * elementSize;
                json.WriteStartObject(name);
                json.WriteString("dtype", dtype);
                json.WriteStartArray("shape");
                foreach (int d in tensor.ShapeSpan) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }
        // The data that follows starts 8-byte aligned: the header is padded with spaces.
        var header = headerStream.ToArray();
        int paddedLength = (header.Length + 7) / 8 * 8;
        long dataLength = entries.Sum(e => (long)e.Value.Numel * elementSize);
        var file = new byte[8 + paddedLength + dataLength];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)paddedLength);
        header.CopyTo(file, 8);
        file.AsSpan(8 + header.Length, paddedLength - header.Length).Fill((byte)' ');
        long position = 8 + paddedLength;
        foreach (var (_, tensor) in entries)
        {
            var values = tensor.ToArray();
            var target = file.AsSpan((int)position, values.Length * elementSize);
            for (int i = 0; i < values.Length; i++)
            {
                if (typeof(T) == typeof(double))
                    BinaryPrimitives.WriteDoubleLittleEndian(target[(i * 8)..], double.CreateTruncating(values[i]));
                else
                    BinaryPrimitives.WriteSingleLittleEndian(target[(i * 4)..], float.CreateTruncating(values[i]));
            }
            position += values.Length * elementSize;
        }
        return file;
    }

    /// <summary>All tensors of the file, in the order of their data, converted to <typeparamref name="T"/>.</summary>
    public static OrderedDictionary<string, Tensor<T>> Load<T>(string path)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Deserialize<T>(File.ReadAllBytes(path), path);
    }

    /// <summary>The "__metadata__" strings of a file (empty when it has none).</summary>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Parse(File.ReadAllBytes(path), path).Metadata;
    }

    /// <summary>All tensors of safetensors bytes, in the order of their data, converted to
    /// <typeparamref name="T"/>.</summary>
    /// <param name="file">The whole file's bytes.</param>
    /// <param name="source">What to call the data in error messages (a path, say).</param>
    /// <exception cref="InvalidDataException">The bytes are not a well-formed safetensors file; the message names
    /// <paramref name="source"/> and the fault.</exception>
    public static OrderedDictionary<string, Tensor<T>> Deserialize<T>(ReadOnlySpan<byte> file, string source = "safetensors data")
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var layout = Parse(file, source);
        var data = file[(8 + layout.HeaderLength)..];
        var result = new OrderedDictionary<string, Tensor<T>>();
        foreach (var entry in layout.Entries.OrderBy(e => e.Begin))
        {
            var values = new T[ShapeMath.Numel(entry.Shape)];
            DType.Decode(entry.DType, data[(int)entry.Begin..(int)entry.End], values);
            result.Add(entry.Name, Tensor<T>.Wrap(values, entry.Shape));
        }
        return result;
    }

    /// <summary>Saves the module's <see cref="Module{T}.StateDict"/> (parameters and buffers by
    /// their PyTorch-style names).</summary>
    public static void SaveSafeTensors<T>(this Module<T> module, string path, IReadOnlyDictionary<string, string>? metadata = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(module);
        Save(path, module.StateDict(), metadata);
    }

    /// <summary>Loads a file written by <see cref="SaveSafeTensors{T}"/> or by PyTorch's
    /// <c>safetensors.torch.save_file(model.state_dict())</c> into the module by name.</summary>
    public static StateDictLoadResult LoadSafeTensors<T>(this Module<T> module, string path, bool strict = true)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(module);
        return module.LoadStateDict(Load<T>(path), strict);
    }

    private sealed record Entry(string Name, string DType, int[] Shape, long Begin, long End);

    private sealed record Layout(int HeaderLength, List<Entry> Entries, Dictionary<string, string> Metadata);

    private static InvalidDataException Malformed(string source, string message) =>
        new($"{source}: not a valid safetensors file: {message}");

    private static Layout Parse(ReadOnlySpan<byte> file, string source)
    {
        if (file.Length < 8)
            throw Malformed(source, $"it has {file.Length} bytes, fewer than the 8-byte header length.");
        ulong declared = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (declared > (ulong)(file.Length - 8) || declared > MaxHeaderBytes)
            throw Malformed(source, $"the header length field says {declared} bytes, but only {file.Length - 8} bytes follow it.");
        int headerLength = (int)declared;
        var header = file.Slice(8, headerLength);
        // JSON parsing does not check the bytes inside strings; reading a name, a dtype or a metadata
        // value would then fail with an InvalidOperationException far from the fault.
        if (!System.Text.Unicode.Utf8.IsValid(header))
            throw Malformed(source, $"the {headerLength}-byte header is not valid UTF-8 (first bad byte at header offset {FirstInvalidUtf8(header)}).");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header.ToArray());
        }
        catch (JsonException e)
        {
            throw Malformed(source, $"the {headerLength}-byte header is not valid JSON ({e.Message}).");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw Malformed(source, $"the header must be a JSON object, got {document.RootElement.ValueKind}.");
            long dataLength = file.Length - 8 - headerLength;
            var entries = new List<Entry>();
            var metadata = new Dictionary<string, string>();
            // JSON allows a key twice; the format does not (which tensor would the name mean?).
            RequireUniqueNames(source, document.RootElement, "the header");
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == MetadataKey) ReadMetadata(source, property.Value, metadata);
                else entries.Add(ReadEntry(source, property.Name, property.Value, dataLength));
            }
            RequireTiling(source, entries, dataLength);
            return new Layout(headerLength, entries, metadata);
        }
    }

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        System.Text.Unicode.Utf8.ToUtf16(bytes, new char[bytes.Length], out int valid, out _, replaceInvalidSequences: false);
        return valid;
    }

    private static void RequireUniqueNames(string source, JsonElement element, string where)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
            if (!names.Add(property.Name))
                throw Malformed(source, property.Name == MetadataKey
                    ? $"\"{MetadataKey}\" appears twice in {where}."
                    : $"the name '{property.Name}' appears twice in {where}.");
    }

    private static void ReadMetadata(string source, JsonElement element, Dictionary<string, string> metadata)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw Malformed(source, $"\"{MetadataKey}\" must be an object of strings, got {element.ValueKind}.");
        RequireUniqueNames(source, element, $"\"{MetadataKey}\"");
        foreach (var item in element.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw Malformed(source, $"\"{MetadataKey}\".\"{item.Name}\" must be a string, got {item.Value.ValueKind}.");
            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    private static Entry ReadEntry(string source, string name, JsonElement element, long dataLength)
    {
        string where = $"tensor '{name}'";
        if (element.ValueKind != JsonValueKind.Object)
            throw Malformed(source, $"{where}: expected an object with dtype, shape and data_offsets, got {element.ValueKind}.");
        RequireUniqueNames(source, element, where);
        if (!element.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Malformed(source, $"{where}: missing string field \"dtype\".");
        string dtype = dtypeElement.GetString()!;
        if (!DType.IsKnown(dtype))
            throw Malformed(source, $"{where}: unknown dtype '{dtype}' (supported: {string.Join(", ", DType.Known)}).");
        var shape = ReadIntegers(source, where, element, "shape", int.MaxValue).Select(v => (int)v).ToArray();
        var offsets = ReadIntegers(source, where, element, "data_offsets", long.MaxValue);
        if (offsets.Length != 2 || offsets[0] > offsets[1])
            throw Malformed(source, $"{where}: \"data_offsets\" must be [begin, end] with begin ≤ end, got [{string.Join(", ", offsets)}].");
        long numel = 1;
        foreach (int d in shape)
        {
            numel *= d;
            if (numel > Array.MaxLength)
                throw Malformed(source, $"{where}: shape {ShapeMath.Format(shape)} has more elements than an array can hold.");
        }
        long expectedBytes = numel * DType.Size(dtype);
        if (offsets[1] - offsets[0] != expectedBytes)
            throw Malformed(source,
                $"{where}: shape {ShapeMath.Format(shape)} of {dtype} needs {expectedBytes} bytes, but data_offsets [{offsets[0]}, {offsets[1]}] span {offsets[1] - offsets[0]}.");
        if (offsets[1] > dataLength)
            throw Malformed(source, $"{where}: data_offsets [{offsets[0]}, {offsets[1]}] run past the {dataLength} bytes of data.");
        return new Entry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] ReadIntegers(string source, string where, JsonElement element, string field, long max)
    {
        if (!element.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
            throw Malformed(source, $"{where}: missing array field \"{field}\".");
        var values = new List<long>();
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long value) || value < 0 || value > max)
                throw Malformed(source, $"{where}: \"{field}\" must hold non-negative integers, got {array.GetRawText()}.");
            values.Add(value);
        }
        return values.ToArray();
    }

    /// <summary>As the reference implementation: the tensors' byte ranges must cover the data
    /// exactly, without gaps or overlaps, so a header that does not describe the data is caught.</summary>
    private static void RequireTiling(string source, List<Entry> entries, long dataLength)
    {
        long position = 0;
        foreach (var entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (entry.Begin != position)
                throw Malformed(source, entry.Begin > position
                    ? $"bytes [{position}, {entry.Begin}) of the data belong to no tensor (before tensor '{entry.Name}')."
                    : $"tensor '{entry.Name}' at [{entry.Begin}, {entry.End}) overlaps the previous tensor, which ends at {position}.");
            position = entry.End;
        }
        if (position != dataLength)
            throw Malformed(source, $"the header describes {position} bytes of data, but the file holds {dataLength}.");
    }

    /// <summary>The dtypes of the format: names, sizes, and conversion to float/double.</summary>
    private static class DType
    {
        public static readonly string[] Known = ["F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8", "BOOL"];

        public static bool IsKnown(string dtype) => Array.IndexOf(Known, dtype) >= 0;

        public static string Of<T>() => typeof(T) == typeof(double) ? "F64" : "F32";

        public static int Size(string dtype) => dtype switch
        {
            "F64" or "I64" or "U64" => 8,
            "F32" or "I32" or "U32" => 4,
            "F16" or "BF16" or "I16" or "U16" => 2,
            _ => 1,
        };

        public static void Decode<T>(string dtype, ReadOnlySpan<byte> bytes, Span<T> values)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            int size = Size(dtype);
            for (int i = 0; i < values.Length; i++)
            {
                var b = bytes.Slice(i * size, size);
                values[i] = dtype switch
                {
                    "F64" => T.CreateChecked(BinaryPrimitives.ReadDoubleLittleEndian(b)),
                    "F32" => T.CreateChecked(BinaryPrimitives.ReadSingleLittleEndian(b)),
                    "F16" => T.CreateChecked((float)BinaryPrimitives.ReadHalfLittleEndian(b)),
                    "BF16" => T.CreateChecked(BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b) << 16)),
                    "I64" => T.CreateChecked(BinaryPrimitives.ReadInt64LittleEndian(b)),
                    "I32" => T.CreateChecked(BinaryPrimitives.ReadInt32LittleEndian(b)),
                    "I16" => T.CreateChecked(BinaryPrimitives.ReadInt16LittleEndian(b)),
                    "I8" => T.CreateChecked((sbyte)b[0]),
                    "U64" => T.CreateChecked(BinaryPrimitives.ReadUInt64LittleEndian(b)),
                    "U32" => T.CreateChecked(BinaryPrimitives.ReadUInt32LittleEndian(b)),
                    "U16" => T.CreateChecked(BinaryPrimitives.ReadUInt16LittleEndian(b)),
                    "U8" => T.CreateChecked(b[0]),
                    _ => b[0] != 0 ? T.One : T.Zero,
                };
            }
        }
    }
}
