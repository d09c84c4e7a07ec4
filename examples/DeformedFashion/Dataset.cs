namespace DeformEngine.Examples.DeformedFashion;

/// <summary>28×28 grey images in [0, 1] (row-major, one after another) with their class indices.</summary>
internal sealed record Dataset(float[] Pixels, int[] Labels, string[] ClassNames, string Source)
{
    public const int Side = FashionMnistIdx.Side;
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

/// <summary>Fashion-MNIST as Datasets (<see cref="FashionMnistIdx"/>).</summary>
internal static class FashionMnist
{
    public static bool IsPresent(string directory) => FashionMnistIdx.IsPresent(directory);

    public static (Dataset Train, Dataset Test) Load(string directory) => (Read(directory, "train"), Read(directory, "t10k"));

    private static Dataset Read(string directory, string prefix)
    {
        var (pixels, labels) = FashionMnistIdx.Read(directory, prefix);
        return new Dataset(pixels, labels, FashionMnistIdx.ClassNames, "Fashion-MNIST");
    }
}
