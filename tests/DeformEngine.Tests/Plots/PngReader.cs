using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace DeformEngine.Tests.Plots;

/// <summary>A strict reader for 8-bit RGB or RGBA PNG files, written from the specification (not
/// from the writer under test): checks the signature, each chunk's CRC-32, IHDR first and IEND
/// last, inflates the IDAT data, checks its length and undoes the five row filters.</summary>
internal static class PngReader
{
    public sealed record Image(int Width, int Height, int Channels, byte[] Pixels, List<string> Chunks)
    {
        /// <summary>(r, g, b) of pixel (x, y).</summary>
        public (byte R, byte G, byte B) this[int x, int y]
        {
            get
            {
                int at = (y * Width + x) * Channels;
                return (Pixels[at], Pixels[at + 1], Pixels[at + 2]);
            }
        }
    }

    public static Image Read(byte[] file)
    {
        byte[] signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        CollectionAssert.AreEqual(signature, file.Take(8).ToArray(), "PNG signature");
        var chunks = new List<string>();
        using var idat = new MemoryStream();
        int width = 0, height = 0, channels = 0, at = 8;
        while (at < file.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(at));
            string type = Encoding.ASCII.GetString(file, at + 4, 4);
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(at + 8 + length));
            Assert.AreEqual(Crc32(file.AsSpan(at + 4, 4 + length)), stored, $"CRC of chunk {type}");
            var data = file.AsSpan(at + 8, length);
            chunks.Add(type);
            if (type == "IHDR")
            {
                Assert.AreEqual(13, length, "IHDR length");
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                Assert.AreEqual(8, data[8], "bit depth");
                channels = data[9] switch
                {
                    2 => 3,
                    6 => 4,
                    _ => throw new AssertFailedException($"colour type {data[9]}: expected 2 (RGB) or 6 (RGBA)."),
                };
                Assert.AreEqual(0, data[12], "no interlace");
            }
            else if (type == "IDAT")
            {
                idat.Write(data);
            }
            at += 12 + length;
        }
        Assert.AreEqual(file.Length, at, "chunks end exactly at the end of the file");
        Assert.AreEqual("IHDR", chunks[0], "first chunk");
        Assert.AreEqual("IEND", chunks[^1], "last chunk");

        idat.Position = 0;
        using var raw = new MemoryStream();
        using (var zlib = new ZLibStream(idat, CompressionMode.Decompress)) zlib.CopyTo(raw);
        var scanlines = raw.ToArray();
        int stride = channels * width;
        Assert.AreEqual(height * (1 + stride), scanlines.Length, "inflated size = height·(1 + channels·width)");
        return new Image(width, height, channels, Unfilter(scanlines, height, stride, channels), chunks);
    }

    private static byte[] Unfilter(byte[] scanlines, int height, int stride, int bpp)
    {
        var pixels = new byte[height * stride];
        for (int row = 0; row < height; row++)
        {
            int filter = scanlines[row * (1 + stride)];
            Assert.IsLessThanOrEqualTo(4, filter, $"filter type of row {row}");
            for (int i = 0; i < stride; i++)
            {
                int x = scanlines[row * (1 + stride) + 1 + i];
                int a = i >= bpp ? pixels[row * stride + i - bpp] : 0;
                int b = row > 0 ? pixels[(row - 1) * stride + i] : 0;
                int c = i >= bpp && row > 0 ? pixels[(row - 1) * stride + i - bpp] : 0;
                int predictor = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    _ => Paeth(a, b, c),
                };
                pixels[row * stride + i] = (byte)(x + predictor);
            }
        }
        return pixels;
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    /// <summary>CRC-32 (ISO-HDLC, reflected polynomial 0xEDB88320), as PNG defines it.</summary>
    public static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte value in bytes)
        {
            crc ^= value;
            for (int bit = 0; bit < 8; bit++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }
}
