using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace DeformEngine.IO;

/// <summary>Writes PNG files: 8-bit truecolour RGB (colour type 2), no interlace, every scanline
/// with filter 0 (None), one IDAT chunk holding the zlib stream. Enough for plots; nothing more.</summary>
public static class Png
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Encodes <paramref name="rgb"/> (row-major, 3 bytes per pixel, top row first).</summary>
    public static byte[] Encode(int width, int height, ReadOnlySpan<byte> rgb)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if ((long)width * height * 3 != rgb.Length)
            throw new ArgumentException(
                $"rgb: a {width}×{height} RGB image needs {(long)width * height * 3} bytes, got {rgb.Length}.", nameof(rgb));

        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;  // bit depth
        header[9] = 2;  // colour type: truecolour
        // header[10..12]: compression 0 (deflate), filter method 0, interlace 0

        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            int stride = width * 3;
            for (int row = 0; row < height; row++)
            {
                zlib.WriteByte(0);  // filter type None
                zlib.Write(rgb.Slice(row * stride, stride));
            }
        }

        using var file = new MemoryStream();
        file.Write(Signature);
        WriteChunk(file, "IHDR", header);
        WriteChunk(file, "IDAT", compressed.ToArray());
        WriteChunk(file, "IEND", []);
        return file.ToArray();
    }

    public static void Write(string path, int width, int height, ReadOnlySpan<byte> rgb)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        File.WriteAllBytes(path, Encode(width, height, rgb));
    }

    private static void WriteChunk(Stream stream, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        stream.Write(word);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        stream.Write(typeBytes);
        stream.Write(data);
        // The CRC covers the chunk type and data, not the length.
        uint crc = Crc32.Update(Crc32.Update(Crc32.Initial, typeBytes), data) ^ Crc32.Initial;
        BinaryPrimitives.WriteUInt32BigEndian(word, crc);
        stream.Write(word);
    }
}

/// <summary>CRC-32 as PNG and zlib's crc32 define it (reflected polynomial 0xEDB88320). The BCL
/// has no CRC-32 (System.IO.Hashing is a separate package), so the table lives here.</summary>
public static class Crc32
{
    /// <summary>Start value; XOR the final register with it too.</summary>
    public const uint Initial = 0xFFFFFFFFu;

    private static readonly uint[] Table = BuildTable();

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }

    public static uint Update(uint register, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data) register = Table[(register ^ b) & 0xFF] ^ (register >> 8);
        return register;
    }

    /// <summary>The CRC-32 of <paramref name="data"/> ("123456789" gives 0xCBF43926).</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Update(Initial, data) ^ Initial;
}
