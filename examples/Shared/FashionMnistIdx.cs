using System.Buffers.Binary;
using System.IO.Compression;

namespace DeformEngine.Examples;

/// <summary>Fashion-MNIST as Debian's dataset-fashion-mnist ships it: gzipped IDX files of 28×28 grey images
/// and their labels. Shared by the examples that train on it (linked into each project).</summary>
internal static class FashionMnistIdx
{
    public const int Side = 28;
    public const int PixelCount = Side * Side;
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    public static readonly string[] ClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Whether the training and test files are all in <paramref name="directory"/>.</summary>
    public static bool IsPresent(string directory) =>
        new[] { "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz" }
            .All(f => File.Exists(Path.Combine(directory, f)));

    /// <summary>The images of one set ("train" or "t10k") in [0, 1], row-major one after another, and their labels.</summary>
    public static (float[] Pixels, int[] Labels) Read(string directory, string prefix)
    {
        var images = Decompress(Path.Combine(directory, $"{prefix}-images-idx3-ubyte.gz"));
        var labels = Decompress(Path.Combine(directory, $"{prefix}-labels-idx1-ubyte.gz"));
        RequireMagic(images, 0x0803, prefix + " images");
        RequireMagic(labels, 0x0801, prefix + " labels");
        if (images.Length < 16)
            throw new InvalidDataException($"{prefix} images: the IDX header is cut short ({images.Length} bytes).");
        int count = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(4));
        int rows = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(8));
        int cols = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(12));
        if (rows != Side || cols != Side || count < 0 || BinaryPrimitives.ReadInt32BigEndian(labels.AsSpan(4)) != count
            || images.Length < 16 + (long)count * PixelCount || labels.Length < 8 + (long)count)
            throw new InvalidDataException($"{prefix}: unexpected IDX sizes ({count} images of {rows}×{cols}).");
        var pixels = new float[count * PixelCount];
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = images[16 + i] / 255f;
        var classes = new int[count];
        for (int i = 0; i < count; i++)
            classes[i] = labels[8 + i];
        return (pixels, classes);
    }

    /// <summary>A 28×28 picture read at (y, x) by bilinear interpolation, 0 outside it.</summary>
    public static float Bilinear(ReadOnlySpan<float> picture, double y, double x)
    {
        int y0 = (int)Math.Floor(y), x0 = (int)Math.Floor(x);
        double ly = y - y0, lx = x - x0;
        double sum = 0;
        for (int dy = 0; dy <= 1; dy++)
            for (int dx = 0; dx <= 1; dx++)
            {
                int yy = y0 + dy, xx = x0 + dx;
                if (yy < 0 || yy >= Side || xx < 0 || xx >= Side) continue;
                sum += (dy == 1 ? ly : 1 - ly) * (dx == 1 ? lx : 1 - lx) * picture[yy * Side + xx];
            }
        return (float)sum;
    }

    private static byte[] Decompress(string path)
    {
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var memory = new MemoryStream();
        gzip.CopyTo(memory);
        return memory.ToArray();
    }

    private static void RequireMagic(byte[] data, int magic, string what)
    {
        if (data.Length < 8 || BinaryPrimitives.ReadInt32BigEndian(data) != magic)
            throw new InvalidDataException($"{what}: not an IDX file (magic 0x{magic:X8} expected).");
    }
}
