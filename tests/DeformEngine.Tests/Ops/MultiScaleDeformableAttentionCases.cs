namespace DeformEngine.Tests.Ops;

/// <summary>Random multi-scale deformable attention calls for the tests: sizes, levels and seeded inputs.</summary>
public sealed record AttentionConfig(int Seed, int N, (int H, int W)[] Shapes, int Heads, int Channels, int Queries, int Points)
{
    public int Levels => Shapes.Length;
    public int Length => Shapes.Sum(s => s.H * s.W);

    public int[] Starts
    {
        get
        {
            var starts = new int[Levels];
            for (int l = 1; l < Levels; l++) starts[l] = starts[l - 1] + Shapes[l - 1].H * Shapes[l - 1].W;
            return starts;
        }
    }

    public override string ToString() =>
        $"seed {Seed}: N{N} levels [{string.Join(", ", Shapes.Select(s => $"{s.H}x{s.W}"))}] heads {Heads} channels {Channels} queries {Queries} points {Points}";

    /// <summary>A random configuration: 1–4 levels of 1–9 pixels a side, 1–4 heads, channel counts on both
    /// sides of the vector widths (1 … 33), 1–8 queries, 1–4 points; every seventh a batch of 33.</summary>
    public static AttentionConfig Random(int seed)
    {
        var rng = new SeededRandom(5000 + seed);
        int[] channels = [1, 3, 4, 7, 8, 9, 16, 17, 32, 33];
        bool big = seed % 7 == 3;
        var shapes = Enumerable.Range(0, 1 + rng.NextInt(big ? 2 : 4)).Select(_ => (1 + rng.NextInt(9), 1 + rng.NextInt(9))).ToArray();
        return new AttentionConfig(seed, big ? 33 : 1 + rng.NextInt(3), shapes, 1 + rng.NextInt(big ? 2 : 4),
            channels[rng.NextInt(big ? 4 : channels.Length)], 1 + rng.NextInt(big ? 3 : 8), 1 + rng.NextInt(4));
    }

    /// <summary>value ~ N(0, 1); locations ~ U(−0.2, 1.2) (points inside, across the border and outside
    /// every level); attention weights ~ N(0, 1).</summary>
    public (Tensor<T> Value, Tensor<T> Locations, Tensor<T> Weights) Inputs<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        long s = 31L * Seed;
        var value = Tensor<T>.Randn(s + 1, N, Length, Heads, Channels);
        var locations = Tensor<T>.Rand(s + 2, N, Queries, Heads, Levels, Points, 2).MulScalar(T.CreateChecked(1.4)).AddScalar(T.CreateChecked(-0.2));
        var weights = Tensor<T>.Randn(s + 3, N, Queries, Heads, Levels, Points);
        return (value, locations, weights);
    }

    public Tensor<T> Run<T>(Tensor<T> value, Tensor<T> locations, Tensor<T> weights) where T : unmanaged, IFloatingPointIeee754<T> =>
        Functional.MultiScaleDeformableAttention(value, Shapes, Starts, locations, weights);
}
