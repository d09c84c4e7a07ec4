namespace DeformEngine.Explain;

/// <summary>One output element of multi-scale deformable attention: image <see cref="N"/>, query
/// <see cref="Query"/>, head <see cref="Head"/>, channel <see cref="Channel"/> of that head, i.e.
/// out[n, q, head · D + channel].</summary>
public readonly record struct AttentionUnit(int N, int Query, int Head, int Channel)
{
    /// <summary>"(n=…, query=…, head=…, channel=…)", for tables.</summary>
    public override string ToString() => $"(n={N}, query={Query}, head={Head}, channel={Channel})";
}

/// <summary>The arguments of one <see cref="Functional.MultiScaleDeformableAttention{T}"/> call, kept together
/// so that the explainer, the engine and the finite differences all see the same call.</summary>
public sealed record AttentionCall<T>(
    Tensor<T> Value, (int H, int W)[] SpatialShapes, int[] LevelStartIndex, Tensor<T> SamplingLocations, Tensor<T> AttentionWeights)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Checks the arguments exactly as the engine does and returns the sizes.</summary>
    public MultiScaleDeformableAttentionParams Params() =>
        MultiScaleDeformableAttentionParams.Create(Value, SpatialShapes, LevelStartIndex, SamplingLocations, AttentionWeights);

    /// <summary>The engine's forward.</summary>
    public Tensor<T> Run() => Functional.MultiScaleDeformableAttention(Value, SpatialShapes, LevelStartIndex, SamplingLocations, AttentionWeights);

    /// <summary>The same call with every tensor replaced (for instance by leaves that require a gradient).</summary>
    public AttentionCall<T> With(Tensor<T> value, Tensor<T> samplingLocations, Tensor<T> attentionWeights) =>
        this with { Value = value, SamplingLocations = samplingLocations, AttentionWeights = attentionWeights };

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless <paramref name="unit"/> is an element
    /// of this call's output.</summary>
    public void RequireUnit(AttentionUnit unit, string argumentName = "unit")
    {
        var p = Params();
        if ((uint)unit.N >= (uint)p.Batch || (uint)unit.Query >= (uint)p.Queries || (uint)unit.Head >= (uint)p.Heads ||
            (uint)unit.Channel >= (uint)p.HeadChannels)
            throw new ArgumentOutOfRangeException(argumentName, unit,
                $"{argumentName}: expected a unit inside [{p.Batch}, {p.Queries}, {p.Heads} heads, {p.HeadChannels} channels], got {unit}.");
    }

    /// <summary>A gradient for the output that is 1 at <paramref name="unit"/> and 0 elsewhere.</summary>
    public Tensor<T> OneHot(AttentionUnit unit)
    {
        RequireUnit(unit);
        var p = Params();
        var grad = Tensor<T>.Zeros(p.Batch, p.Queries, p.Heads * p.HeadChannels);
        grad[unit.N, unit.Query, unit.Head * p.HeadChannels + unit.Channel] = T.One;
        return grad;
    }
}
