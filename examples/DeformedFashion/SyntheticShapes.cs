using DeformEngine;

namespace DeformEngine.Examples.DeformedFashion;

/// <summary>A stand-in data set when Fashion-MNIST is not installed: six outline and filled shapes
/// drawn at random sizes and positions on 28×28 images.</summary>
internal static class SyntheticShapes
{
    public static readonly string[] ClassNames = ["disc", "ring", "square", "cross", "triangle", "bar"];

    public static Dataset Generate(int count, SeededRandom random)
    {
        var pixels = new float[count * Dataset.ImageSize];
        var labels = new int[count];
        for (int n = 0; n < count; n++)
        {
            int label = random.NextInt(ClassNames.Length);
            labels[n] = label;
            double size = 6 + 4 * random.NextDouble();
            double cy = 13.5 + 3 * (random.NextDouble() - 0.5), cx = 13.5 + 3 * (random.NextDouble() - 0.5);
            var image = pixels.AsSpan(n * Dataset.ImageSize, Dataset.ImageSize);
            for (int y = 0; y < Dataset.Side; y++)
                for (int x = 0; x < Dataset.Side; x++)
                    image[y * Dataset.Side + x] = Inside(label, (y - cy) / size, (x - cx) / size) ? 1f : 0f;
        }
        return new Dataset(pixels, labels, ClassNames, "synthetic shapes");
    }

    /// <summary>Whether the point (u, v), in units of the shape's size around its centre, is inked.</summary>
    private static bool Inside(int label, double u, double v) => label switch
    {
        0 => u * u + v * v <= 1,
        1 => u * u + v * v is <= 1 and >= 0.45,
        2 => Math.Abs(u) <= 0.8 && Math.Abs(v) <= 0.8,
        3 => (Math.Abs(u) <= 0.25 && Math.Abs(v) <= 1) || (Math.Abs(v) <= 0.25 && Math.Abs(u) <= 1),
        4 => u <= 0.7 && u >= -0.9 && Math.Abs(v) <= (u + 0.9) * 0.6,
        _ => Math.Abs(u) <= 1 && Math.Abs(v) <= 0.3,
    };
}
