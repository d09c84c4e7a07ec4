namespace DeformEngine.Examples.DeformableRoIPooling;

/// <summary>28×28 grey items in [0, 1] (row-major, one after another) with their class indices:
/// what the scenes are made of.</summary>
internal sealed record ItemSet(float[] Pixels, int[] Labels, string[] ClassNames, string Source)
{
    public const int Side = FashionMnistIdx.Side;
    public const int ItemSize = Side * Side;

    public int Count => Labels.Length;

    public ReadOnlySpan<float> Item(int index) => Pixels.AsSpan(index * ItemSize, ItemSize);
}

/// <summary>Fashion-MNIST as ItemSets (<see cref="FashionMnistIdx"/>).</summary>
internal static class FashionMnist
{
    public static bool IsPresent(string directory) => FashionMnistIdx.IsPresent(directory);

    public static (ItemSet Train, ItemSet Test) Load(string directory) => (Read(directory, "train"), Read(directory, "t10k"));

    private static ItemSet Read(string directory, string prefix)
    {
        var (pixels, labels) = FashionMnistIdx.Read(directory, prefix);
        return new ItemSet(pixels, labels, FashionMnistIdx.ClassNames, "Fashion-MNIST");
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
