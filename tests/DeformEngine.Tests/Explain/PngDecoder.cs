using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using DeformEngine.IO;

namespace DeformEngine.Tests.Explain;

/// <summary>A strict reader for the PNGs our writer makes (8-bit RGB, filter 0 on every row):
/// checks the signature, each chunk's CRC, IHDR, IEND, and inflates the IDAT data.</summary>
internal static class PngDecoder
{
    public sealed record Image(int Width, int Height, byte[] Rgb, List<string> Chunks);

    public static Image Decode(byte[] file)
    {
        byte[] signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        CollectionAssert.AreEqual(signature, file.Take(8).ToArray(), "PNG signature");
        var chunks = new List<string>();
        using var idat = new MemoryStream();
        int width = 0, height = 0, at = 8;
        while (at < file.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(at));
            string type = Encoding.ASCII.GetString(file, at + 4, 4);
            var typeAndData = file.AsSpan(at + 4, 4 + length);
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(at + 8 + length));
            Assert.AreEqual(Crc32.Compute(typeAndData), stored, $"CRC of chunk {type}");
            var data = file.AsSpan(at + 8, length);
            chunks.Add(type);
            switch (type)
            {
                case "IHDR":
                    Assert.AreEqual(13, length, "IHDR length");
                    width = BinaryPrimitives.ReadInt32BigEndian(data);
                    height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                    CollectionAssert.AreEqual(new byte[] { 8, 2, 0, 0, 0 }, data[8..].ToArray(), "bit depth 8, RGB, deflate, filter 0, no interlace");
                    break;
                case "IDAT":
                    idat.Write(data);
                    break;
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
        Assert.AreEqual(height * (1 + 3 * width), scanlines.Length, "inflated size = height·(1 + 3·width)");
        var rgb = new byte[width * height * 3];
        for (int row = 0; row < height; row++)
        {
            Assert.AreEqual(0, scanlines[row * (1 + 3 * width)], $"filter byte of row {row}");
            Array.Copy(scanlines, row * (1 + 3 * width) + 1, rgb, row * 3 * width, 3 * width);
        }
        return new Image(width, height, rgb, chunks);
    }
}
