namespace DeformEngine;

/// <summary>A small, version-stable generator (SplitMix64) so that seeded tensors are the same on
/// every runtime and machine.</summary>
public sealed class SeededRandom(long seed)
{
    private ulong _state = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + 0x632BE59BD9B4E019UL);
    private double? _spareNormal;

    /// <summary>The next 64 random bits of the SplitMix64 sequence.</summary>
    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, maxExclusive).</summary>
    public int NextInt(int maxExclusive) =>
        maxExclusive > 0
            ? (int)(NextUInt64() % (ulong)maxExclusive)
            : throw new ArgumentOutOfRangeException(nameof(maxExclusive), maxExclusive, "must be positive");

    /// <summary>Standard normal by the Box–Muller transform.</summary>
    public double NextNormal()
    {
        if (_spareNormal is double spare)
        {
            _spareNormal = null;
            return spare;
        }
        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        double radius = Math.Sqrt(-2.0 * Math.Log(u1));
        _spareNormal = radius * Math.Sin(2 * Math.PI * u2);
        return radius * Math.Cos(2 * Math.PI * u2);
    }
}
