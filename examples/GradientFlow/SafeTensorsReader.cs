using System.Buffers.Binary;
using System.Text.Json;
using DeformEngine;

namespace GradientFlow;

/// <summary>Just enough of the safetensors format to read a trained DCN's weights: an 8-byte
/// little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, raw
/// little-endian data. F32 and F64 only. The library's DeformEngine.IO.SafeTensors (with the
/// training example) is the full reader; this example carries its own so it runs without it.</summary>
internal static class SafeTensorsReader
{
    public static List<(string Name, Tensor<double> Tensor)> Read(string path)
    {
        var file = File.ReadAllBytes(path);
        if (file.Length < 8) throw new InvalidDataException($"{path}: {file.Length} bytes, too short for a safetensors file.");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength > (ulong)(file.Length - 8))
            throw new InvalidDataException($"{path}: the header length {headerLength} exceeds the file ({file.Length} bytes).");
        int dataStart = 8 + (int)headerLength;
        using var header = JsonDocument.Parse(file.AsMemory(8, (int)headerLength));
        var result = new List<(string, Tensor<double>, long)>();
        foreach (var entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__") continue;
            string dtype = entry.Value.GetProperty("dtype").GetString() ?? "";
            int[] shape = entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
            long[] range = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            int count = shape.Aggregate(1, (a, b) => a * b);
            int size = dtype switch
            {
                "F32" => 4,
                "F64" => 8,
                _ => throw new InvalidDataException($"{path}: tensor '{entry.Name}' has dtype {dtype}; this reader takes F32 and F64."),
            };
            if (range.Length != 2 || range[1] - range[0] != (long)count * size || dataStart + range[1] > file.Length)
                throw new InvalidDataException($"{path}: tensor '{entry.Name}' has data_offsets that do not fit its shape or the file.");
            var values = new double[count];
            var bytes = file.AsSpan(dataStart + (int)range[0], count * size);
            for (int i = 0; i < count; i++)
                values[i] = size == 4 ? BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * 4)..]) : BinaryPrimitives.ReadDoubleLittleEndian(bytes[(i * 8)..]);
            result.Add((entry.Name, Tensor<double>.FromArray(values, shape), range[0]));
        }
        return result.OrderBy(e => e.Item3).Select(e => (e.Item1, e.Item2)).ToList();
    }
}
