namespace DeformEngine;

/// <summary>How a loss turns per-element (or per-row) values into its result, as PyTorch's
/// <c>reduction</c> argument.</summary>
public enum Reduction
{
    /// <summary>No reduction: one value per element (per row for row losses).</summary>
    None,
    /// <summary>The mean of the values.</summary>
    Mean,
    /// <summary>The sum of the values.</summary>
    Sum,
}
