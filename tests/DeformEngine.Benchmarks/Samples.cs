namespace DeformEngine.Benchmarks;

/// <summary>Summary statistics of timing samples. On a shared machine the minimum is the best
/// estimate of the undisturbed time and the median says how typical it is; both are reported.</summary>
public static class Samples
{
    public static double Min(IReadOnlyList<double> values) => values.Min();

    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : 0.5 * (sorted[middle - 1] + sorted[middle]);
    }
}
