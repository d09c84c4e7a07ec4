using System.Buffers.Binary;
using System.IO.Compression;

namespace DeformEngine.Examples.DeformedFashion;

/// <summary>28×28 grey images in [0, 1] (row-major, one after another) with their class indices.</summary>
internal sealed record Dataset(float[] Pixels, int[] Labels, string[] ClassNames, string Source)
{
    public const int Side = 28;
    public const int ImageSize = Side * Side;

    public int Count => Labels.Length;

    public ReadOnlySpan<float> Image(int index) => Pixels.AsSpan(index * ImageSize, ImageSize);

    /// <summary>A seeded random subset of <paramref name="count"/> images (all of them if fewer).</summary>
    public Dataset Subset(int count, DeformEngine.SeededRandom random)
    {
        var order = Enumerable.Range(0, Count).ToArray();
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = random.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        int take = Math.Min(count, Count);
        var pixels = new float[take * ImageSize];
        var labels = new int[take];
        for (int k = 0; k < take; k++)
        {
            Image(order[k]).CopyTo(pixels.AsSpan(k * ImageSize, ImageSize));
            labels[k] = Labels[order[k]];
        }
        return this with { Pixels = pixels, Labels = labels };
    }
}

/// <summary>Reads Fashion-MNIST from the gzipped IDX files of Debian's dataset-fashion-mnist.</summary>
internal static class FashionMnist
{
    public static readonly string[] ClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    public static bool IsPresent(string directory) =>
        new[] { "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz" }
            .All(f => File.Exists(Path.Combine(directory, f)));

    public static (Dataset Train, Dataset Test) Load(string directory) =>
        (Read(directory, "train"), Read(directory, "t10k"));

    private static Dataset Read(string directory, string prefix)
    {
        var images = Decompress(Path.Combine(directory, $"{prefix}-images-idx3-ubyte.gz"));
        var labels = Decompress(Path.Combine(directory, $"{prefix}-labels-idx1-ubyte.gz"));
        RequireMagic(images, 0x0803, prefix + " images");
        RequireMagic(labels, 0x0801, prefix + " labels");
        int count = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(4));
        int rows = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(8));
        int cols = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(12));
        if (rows != Dataset.Side || cols != Dataset.Side || BinaryPrimitives.ReadInt32BigEndian(labels.AsSpan(4)) != count
            || images.Length < 16 + count * Dataset.ImageSize || labels.Length < 8 + count)
            throw new InvalidDataException($"{prefix}: unexpected IDX sizes ({count} images of {rows}×{cols}).");
        var pixels = new float[count * Dataset.ImageSize];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = images[16 + i] / 255f;
        var classes = labels.AsSpan(8, count).ToArray().Select(b => (int)b).ToArray();
        return new Dataset(pixels, classes, ClassNames, "Fashion-MNIST");
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
