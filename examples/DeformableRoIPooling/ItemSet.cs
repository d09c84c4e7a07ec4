using System.Buffers.Binary;
using System.IO.Compression;

namespace DeformEngine.Examples.DeformableRoIPooling;

/// <summary>28×28 grey items in [0, 1] (row-major, one after another) with their class indices:
/// what the scenes are made of.</summary>
internal sealed record ItemSet(float[] Pixels, int[] Labels, string[] ClassNames, string Source)
{
    public const int Side = 28;
    public const int ItemSize = Side * Side;

    public int Count => Labels.Length;

    public ReadOnlySpan<float> Item(int index) => Pixels.AsSpan(index * ItemSize, ItemSize);
}

/// <summary>Reads Fashion-MNIST from the gzipped IDX files of Debian's dataset-fashion-mnist.</summary>
internal static class FashionMnist
{
    public static readonly string[] ClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    public static bool IsPresent(string directory) =>
        new[] { "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz" }
            .All(f => File.Exists(Path.Combine(directory, f)));

    /// <summary>The training items (for training scenes) and the test items (for test scenes).</summary>
    public static (ItemSet Train, ItemSet Test) Load(string directory) => (Read(directory, "train"), Read(directory, "t10k"));

    private static ItemSet Read(string directory, string prefix)
    {
        var images = Decompress(Path.Combine(directory, $"{prefix}-images-idx3-ubyte.gz"));
        var labels = Decompress(Path.Combine(directory, $"{prefix}-labels-idx1-ubyte.gz"));
        RequireMagic(images, 0x0803, prefix + " images");
        RequireMagic(labels, 0x0801, prefix + " labels");
        int count = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(4));
        int rows = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(8));
        int cols = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(12));
        if (rows != ItemSet.Side || cols != ItemSet.Side || BinaryPrimitives.ReadInt32BigEndian(labels.AsSpan(4)) != count
            || images.Length < 16 + count * ItemSet.ItemSize || labels.Length < 8 + count)
            throw new InvalidDataException($"{prefix}: unexpected IDX sizes ({count} images of {rows}×{cols}).");
        var pixels = new float[count * ItemSet.ItemSize];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = images[16 + i] / 255f;
        var classes = labels.AsSpan(8, count).ToArray().Select(b => (int)b).ToArray();
        return new ItemSet(pixels, classes, ClassNames, "Fashion-MNIST");
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

/// <summary>A stand-in when Fashion-MNIST is not installed (and the items of the tests): four
/// filled shapes at random sizes around the centre of a 28×28 frame.</summary>
internal static class SyntheticItems
{
    public static readonly string[] ClassNames = ["disc", "square", "cross", "bar"];

    public static ItemSet Generate(int count, SeededRandom random)
    {
        var pixels = new float[count * ItemSet.ItemSize];
        var labels = new int[count];
        for (int n = 0; n < count; n++)
        {
            int label = random.NextInt(ClassNames.Length);
            labels[n] = label;
            double size = 8 + 4 * random.NextDouble();
            var item = pixels.AsSpan(n * ItemSet.ItemSize, ItemSet.ItemSize);
            for (int y = 0; y < ItemSet.Side; y++)
                for (int x = 0; x < ItemSet.Side; x++)
                    item[y * ItemSet.Side + x] = Inside(label, (y - 13.5) / size, (x - 13.5) / size) ? 1f : 0f;
        }
        return new ItemSet(pixels, labels, ClassNames, "synthetic shapes");
    }

    /// <summary>Whether the point (u, v), in units of the shape's size around its centre, is inked.</summary>
    private static bool Inside(int label, double u, double v) => label switch
    {
        0 => u * u + v * v <= 1,
        1 => Math.Abs(u) <= 0.8 && Math.Abs(v) <= 0.8,
        2 => (Math.Abs(u) <= 0.25 && Math.Abs(v) <= 1) || (Math.Abs(v) <= 0.25 && Math.Abs(u) <= 1),
        _ => Math.Abs(u) <= 1 && Math.Abs(v) <= 0.3,
    };
}
