using System.IO.Compression;
using DeformEngine;

namespace GradientFlow;

/// <summary>The example's input pictures, 28×28 in [0, 1], as [1, 1, 28, 28].</summary>
internal static class Images
{
    public const string FashionMnistPath = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";

    /// <summary>A large ellipse and a small square on a dark background, edges anti-aliased
    /// (4×4 supersampling), over a faint texture.</summary>
    public static Tensor<double> Synthetic()
    {
        const int size = 28, sub = 4;
        var pixels = new double[size * size];
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                double covered = 0;
                for (int sy = 0; sy < sub; sy++)
                    for (int sx = 0; sx < sub; sx++)
                    {
                        double py = y + (sy + 0.5) / sub - 0.5, px = x + (sx + 0.5) / sub - 0.5;
                        double ey = (py - 11) / 7.5, ex = (px - 10) / 5.5;
                        bool ellipse = ey * ey + ex * ex <= 1;
                        bool square = py >= 18.5 && py <= 23.5 && px >= 18.5 && px <= 23.5;
                        covered += ellipse ? 0.85 : square ? 0.65 : 0;
                    }
                // A faint texture: on a perfectly flat background every corner difference, and with
                // it the offset gradient, would be exactly 0.
                double texture = 0.04 * (1 + Math.Sin(0.9 * x + 0.3) * Math.Cos(0.7 * y - 0.2));
                pixels[y * size + x] = 0.05 + texture + covered / (sub * sub);
            }
        return Tensor<double>.FromArray(pixels, 1, 1, size, size);
    }

    /// <summary>Image <paramref name="index"/> of the Fashion-MNIST test set (Debian's
    /// dataset-fashion-mnist), or null when the package is not installed.</summary>
    public static Tensor<double>? FashionMnist(int index)
    {
        if (!File.Exists(FashionMnistPath)) return null;
        using var gzip = new GZipStream(File.OpenRead(FashionMnistPath), CompressionMode.Decompress);
        using var reader = new BinaryReader(gzip);
        int magic = ReadBigEndian(reader), count = ReadBigEndian(reader), rows = ReadBigEndian(reader), columns = ReadBigEndian(reader);
        if (magic != 2051) throw new InvalidDataException($"{FashionMnistPath}: not an idx3 image file (magic {magic}).");
        if (index < 0 || index >= count) throw new ArgumentOutOfRangeException(nameof(index), index, $"expected 0 to {count - 1} (the file has {count} images).");
        int size = rows * columns;
        for (long skip = (long)index * size; skip > 0;) skip -= reader.ReadBytes((int)Math.Min(skip, 1 << 20)).Length;
        var bytes = reader.ReadBytes(size);
        return Tensor<double>.FromArray(bytes.Select(b => b / 255.0).ToArray(), 1, 1, rows, columns);
    }

    private static int ReadBigEndian(BinaryReader reader)
    {
        var b = reader.ReadBytes(4);
        return (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
    }
}
