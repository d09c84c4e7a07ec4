using DeformEngine.Explain;

namespace DeformEngine.Tests.Explain;

/// <summary>Seeded multi-scale deformable attention calls for the explainer tests, in double, with every
/// pixel coordinate's fractional part in (0.1, 0.9) (central differences see no kink) and locations inside,
/// across the border and outside each level.</summary>
public static class AttentionExplainCases
{
    public static IEnumerable<object[]> Seeds => Enumerable.Range(0, 12).Select(s => new object[] { s });

    public sealed record Case(string Name, AttentionCall<double> Call, AttentionUnit[] Units);

    public static Case Random(int seed)
    {
        var rng = new SeededRandom(900 + seed);
        int n = 1 + rng.NextInt(2), levels = 1 + rng.NextInt(3), heads = 1 + rng.NextInt(3), channels = 1 + rng.NextInt(5);
        int queries = 1 + rng.NextInt(4), points = 1 + rng.NextInt(3);
        var shapes = Enumerable.Range(0, levels).Select(_ => (1 + rng.NextInt(6), 1 + rng.NextInt(6))).ToArray();
        var starts = new int[levels];
        for (int l = 1; l < levels; l++) starts[l] = starts[l - 1] + shapes[l - 1].Item1 * shapes[l - 1].Item2;
        int length = shapes.Sum(s => s.Item1 * s.Item2);
        var value = Tensor<double>.Randn(seed * 7 + 1, n, length, heads, channels);
        var weights = Tensor<double>.Randn(seed * 7 + 2, n, queries, heads, levels, points);
        var locations = new double[n * queries * heads * levels * points * 2];
        for (int i = 0; i < locations.Length; i++)
        {
            int level = i / (2 * points) % levels;
            int size = i % 2 == 0 ? shapes[level].Item2 : shapes[level].Item1;
            // Pixel coordinates from −1.9 to size + 0.9: a fifth of the points outside or across the border.
            double pixel = rng.NextInt(size + 3) - 2.5 + 0.6 + 0.8 * rng.NextDouble();
            locations[i] = (pixel + 0.5) / size;
        }
        var call = new AttentionCall<double>(value, shapes, starts,
            Tensor<double>.FromArray(locations, n, queries, heads, levels, points, 2), weights);
        var units = Enumerable.Range(0, 3)
            .Select(_ => new AttentionUnit(rng.NextInt(n), rng.NextInt(queries), rng.NextInt(heads), rng.NextInt(channels))).Distinct().ToArray();
        return new Case($"seed {seed}: N{n} levels [{string.Join(", ", shapes.Select(s => $"{s.Item1}x{s.Item2}"))}] heads {heads} " +
                        $"channels {channels} queries {queries} points {points}", call, units);
    }
}
