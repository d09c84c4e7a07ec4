using DeformEngine;

namespace DeformEngine.Examples.DeformedFashion;

/// <summary>Warps each image by its own random affine map about the centre: rotation within ±35°,
/// scale 0.75–1.15, shear within ±0.35 and a shift of up to ±2 pixels, read back with bilinear
/// interpolation (outside reads 0). These are the geometric changes a deformable convolution can
/// learn to follow with its offsets.</summary>
internal static class RandomAffine
{
    public static Dataset Apply(Dataset data, SeededRandom random)
    {
        var pixels = new float[data.Pixels.Length];
        for (int n = 0; n < data.Count; n++)
            Warp(data.Image(n), pixels.AsSpan(n * Dataset.ImageSize, Dataset.ImageSize), random);
        return data with { Pixels = pixels };
    }

    private static void Warp(ReadOnlySpan<float> source, Span<float> target, SeededRandom random)
    {
        double angle = (random.NextDouble() * 2 - 1) * 35 * Math.PI / 180;
        double scale = 0.75 + 0.4 * random.NextDouble();
        double shear = (random.NextDouble() * 2 - 1) * 0.35;
        double shiftY = (random.NextDouble() * 2 - 1) * 2, shiftX = (random.NextDouble() * 2 - 1) * 2;
        // Forward map M = scale · R(angle) · [[1, shear], [0, 1]]; each target pixel reads M⁻¹(p − c − shift) + c.
        double cos = Math.Cos(angle), sin = Math.Sin(angle);
        double m00 = scale * cos, m01 = scale * (cos * shear - sin), m10 = scale * sin, m11 = scale * (sin * shear + cos);
        double det = m00 * m11 - m01 * m10;
        double i00 = m11 / det, i01 = -m01 / det, i10 = -m10 / det, i11 = m00 / det;
        const double centre = (Dataset.Side - 1) / 2.0;
        for (int y = 0; y < Dataset.Side; y++)
            for (int x = 0; x < Dataset.Side; x++)
            {
                double dy = y - centre - shiftY, dx = x - centre - shiftX;
                double sy = i00 * dy + i01 * dx + centre, sx = i10 * dy + i11 * dx + centre;
                target[y * Dataset.Side + x] = FashionMnistIdx.Bilinear(source, sy, sx);
            }
    }
}
