namespace DeformEngine.NN;

/// <summary>mmcv's <c>MultiScaleDeformableAttention</c> (Deformable DETR's attention module), with mmcv's
/// parameter names and initialisation so that its state dicts load by name:
/// <list type="bullet">
/// <item><c>value_proj</c>: Linear(embedDims → V), V = ⌊embedDims · valueProjRatio⌋, split into heads;</item>
/// <item><c>sampling_offsets</c>: Linear(embedDims → heads · levels · points · 2) of the query, offsets (x, y)
/// in pixels of each level;</item>
/// <item><c>attention_weights</c>: Linear(embedDims → heads · levels · points) of the query, a softmax over
/// each head's levels · points;</item>
/// <item><c>output_proj</c>: Linear(V → embedDims).</item>
/// </list>
/// out = dropout(output_proj(MSDA(value_proj(value), locations, softmax weights))) + identity, where the
/// locations are reference (x, y) + offset / (W_l, H_l), or for reference boxes (x, y, w, h)
/// (x, y) + offset / points · (w, h) / 2 (see <see cref="Functional.MultiScaleDeformableAttention{T}"/>).
/// Initialisation (mmcv's <c>init_weights</c>): <c>sampling_offsets</c> weight 0 and bias the radial
/// pattern — head i points along θ_i = 2πi / heads, (cos θ_i, sin θ_i) scaled so that its larger entry is
/// ±1, times p + 1 for point p, on every level (computed in float32 as mmcv does); <c>attention_weights</c>
/// 0 (uniform attention at first); <c>value_proj</c>, <c>output_proj</c> Xavier-uniform weights
/// (U(±√(6 / (in + out)))) and zero biases.</summary>
public sealed class MultiScaleDeformableAttention<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Dropout<T> _dropout;

    /// <param name="embedDims">Width of the query and value features.</param>
    /// <param name="numHeads">Attention heads; they divide the projected value's width.</param>
    /// <param name="numLevels">Feature levels sampled.</param>
    /// <param name="numPoints">Sampling points per head and level.</param>
    /// <param name="dropout">Drop probability on the projected output (training mode only).</param>
    /// <param name="batchFirst">Queries and values [batch, n, embedDims] (true) or [n, batch, embedDims] (mmcv's default).</param>
    /// <param name="valueProjRatio">Width of the projected value relative to embedDims.</param>
    /// <param name="random">Generator of the Xavier initialisation; null means <see cref="Init.DefaultRandom"/>.</param>
    /// <param name="dropoutSeed">Seed of the dropout masks.</param>
    public MultiScaleDeformableAttention(int embedDims = 256, int numHeads = 8, int numLevels = 4, int numPoints = 4, double dropout = 0.1,
        bool batchFirst = false, double valueProjRatio = 1.0, SeededRandom? random = null, long dropoutSeed = 0)
    {
        RequirePositive(nameof(embedDims), embedDims);
        RequirePositive(nameof(numHeads), numHeads);
        RequirePositive(nameof(numLevels), numLevels);
        RequirePositive(nameof(numPoints), numPoints);
        if (embedDims % numHeads != 0)
            throw new ArgumentException($"embedDims: expected a multiple of numHeads = {numHeads}, got {embedDims}.", nameof(embedDims));
        int valueDims = (int)(embedDims * valueProjRatio);
        if (!(valueProjRatio > 0) || valueDims < numHeads || valueDims % numHeads != 0)
            throw new ArgumentException(
                $"valueProjRatio: expected embedDims · ratio to be a positive multiple of numHeads = {numHeads}, got {embedDims} · {valueProjRatio} → {valueDims}.",
                nameof(valueProjRatio));
        random ??= Init.DefaultRandom;
        EmbedDims = embedDims;
        NumHeads = numHeads;
        NumLevels = numLevels;
        NumPoints = numPoints;
        BatchFirst = batchFirst;
        ValueDims = valueDims;
        _dropout = RegisterModule("dropout", new Dropout<T>(dropout, dropoutSeed));
        SamplingOffsets = RegisterModule("sampling_offsets", new Linear<T>(embedDims, numHeads * numLevels * numPoints * 2, random: new SeededRandom(0)));
        AttentionWeights = RegisterModule("attention_weights", new Linear<T>(embedDims, numHeads * numLevels * numPoints, random: new SeededRandom(0)));
        ValueProj = RegisterModule("value_proj", new Linear<T>(embedDims, valueDims, random: new SeededRandom(0)));
        OutputProj = RegisterModule("output_proj", new Linear<T>(valueDims, embedDims, random: new SeededRandom(0)));
        InitWeights(random);
    }

    /// <summary>Width of the query and value features, and of the output.</summary>
    public int EmbedDims { get; }
    /// <summary>Attention heads.</summary>
    public int NumHeads { get; }
    /// <summary>Feature levels sampled.</summary>
    public int NumLevels { get; }
    /// <summary>Sampling points per head and level.</summary>
    public int NumPoints { get; }
    /// <summary>True when queries and values are [batch, n, embedDims]; false for mmcv's default [n, batch,
    /// embedDims].</summary>
    public bool BatchFirst { get; }

    /// <summary>Width of the projected value, split into <see cref="NumHeads"/> heads.</summary>
    public int ValueDims { get; }

    /// <summary>embedDims → heads·levels·points·2 offsets (x, y) in pixels of each level
    /// (<c>sampling_offsets</c>).</summary>
    public Linear<T> SamplingOffsets { get; }
    /// <summary>embedDims → heads·levels·points attention logits (<c>attention_weights</c>).</summary>
    public Linear<T> AttentionWeights { get; }
    /// <summary>embedDims → <see cref="ValueDims"/>, the values sampled (<c>value_proj</c>).</summary>
    public Linear<T> ValueProj { get; }
    /// <summary><see cref="ValueDims"/> → embedDims, applied to the attention's result (<c>output_proj</c>).</summary>
    public Linear<T> OutputProj { get; }

    /// <summary>The sampling locations [batch, queries, heads, levels, points, 2] of the last forward (no history).</summary>
    public Tensor<T>? LastSamplingLocations { get; private set; }

    /// <summary>The attention weights [batch, queries, heads, levels, points] of the last forward (no history).</summary>
    public Tensor<T>? LastAttentionWeights { get; private set; }

    /// <summary>The projected value [batch, S, heads, channels per head] of the last forward (no history).</summary>
    public Tensor<T>? LastValue { get; private set; }

    /// <summary>mmcv's <c>init_weights</c> (the radial offsets, zero attention logits, Xavier projections).</summary>
    private void InitWeights(SeededRandom random)
    {
        SamplingOffsets.Weight.AsSpan().Clear();
        var bias = SamplingOffsets.Bias!.AsSpan();
        int at = 0;
        for (int head = 0; head < NumHeads; head++)
        {
            // NOTE: float32 as mmcv computes it (arange(float32) · 2π/heads, then cos and sin).
            float theta = head * (float)(2.0 * Math.PI / NumHeads);
            float cos = MathF.Cos(theta), sin = MathF.Sin(theta), largest = Math.Max(Math.Abs(cos), Math.Abs(sin));
            for (int level = 0; level < NumLevels; level++)
                for (int point = 0; point < NumPoints; point++)
                {
                    bias[at++] = T.CreateChecked(cos / largest * (point + 1));
                    bias[at++] = T.CreateChecked(sin / largest * (point + 1));
                }
        }
        AttentionWeights.Weight.AsSpan().Clear();
        AttentionWeights.Bias!.AsSpan().Clear();
        foreach (var projection in new[] { ValueProj, OutputProj })
        {
            double bound = Math.Sqrt(6.0 / (projection.InFeatures + projection.OutFeatures));
            Init.Uniform<T>(random, bound, projection.OutFeatures, projection.InFeatures).AsSpan().CopyTo(projection.Weight.AsSpan());
            projection.Bias!.AsSpan().Clear();
        }
    }

    /// <summary>Always throws: the attention needs reference points and the levels' shapes.</summary>
    public override Tensor<T> Forward(Tensor<T> input) =>
        throw new NotSupportedException("MultiScaleDeformableAttention attends from reference points: call Forward(query, referencePoints, spatialShapes, levelStartIndex, …).");

    /// <param name="query">[queries, batch, embedDims] ([batch, queries, embedDims] with batchFirst).</param>
    /// <param name="referencePoints">[batch, queries, levels, 2] of normalised (x, y), or [batch, queries, levels, 4]
    /// of boxes (x, y, w, h).</param>
    /// <param name="spatialShapes">(H, W) of each level.</param>
    /// <param name="levelStartIndex">The first value row of each level.</param>
    /// <param name="value">[S, batch, embedDims] (batch first with batchFirst); null uses the query.</param>
    /// <param name="identity">Added to the result; null uses the query (before <paramref name="queryPos"/>).</param>
    /// <param name="queryPos">Positional encoding added to the query.</param>
    /// <param name="keyPaddingMask">[batch, S], 1 where a value row is padding (its projected value becomes 0), else 0.</param>
    public Tensor<T> Forward(Tensor<T> query, Tensor<T> referencePoints, (int H, int W)[] spatialShapes, int[] levelStartIndex,
        Tensor<T>? value = null, Tensor<T>? identity = null, Tensor<T>? queryPos = null, Tensor<T>? keyPaddingMask = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(referencePoints);
        ArgumentNullException.ThrowIfNull(spatialShapes);
        RequireFeatures(nameof(query), query);
        value ??= query;
        identity ??= query;
        RequireFeatures(nameof(value), value);
        if (queryPos is not null) query = query.Add(queryPos);
        if (!BatchFirst)
        {
            query = query.Permute(1, 0, 2);
            value = value.Permute(1, 0, 2);
        }
        int batch = query.Dim(0), queries = query.Dim(1), length = value.Dim(1);
        if (spatialShapes.Length != NumLevels)
            throw new ArgumentException($"spatialShapes: expected {NumLevels} levels (numLevels), got {spatialShapes.Length}.", nameof(spatialShapes));
        if (value.Dim(0) != batch)
            throw new ArgumentException($"value: expected batch {batch} like query, got shape {ShapeMath.Format(value.ShapeSpan)}.", nameof(value));

        var projected = ValueProj.Forward(value);
        if (keyPaddingMask is not null)
        {
            ShapeMath.RequireShape(nameof(keyPaddingMask), keyPaddingMask.ShapeSpan, [batch, length]);
            projected = projected.Mul(keyPaddingMask.Neg().AddScalar(T.One).Reshape(batch, length, 1));
        }
        projected = projected.Reshape(batch, length, NumHeads, ValueDims / NumHeads);
        var offsets = SamplingOffsets.Forward(query).Reshape(batch, queries, NumHeads, NumLevels, NumPoints, 2);
        var weights = AttentionWeights.Forward(query).Reshape(batch, queries, NumHeads, NumLevels * NumPoints).Softmax(-1)
            .Reshape(batch, queries, NumHeads, NumLevels, NumPoints);
        var locations = Locations(referencePoints, offsets, spatialShapes, batch, queries);

        LastSamplingLocations = locations.Detach();
        LastAttentionWeights = weights.Detach();
        LastValue = projected.Detach();
        var output = OutputProj.Forward(Functional.MultiScaleDeformableAttention(projected, spatialShapes, levelStartIndex, locations, weights));
        if (!BatchFirst) output = output.Permute(1, 0, 2);
        return _dropout.Forward(output).Add(identity);
    }

    /// <summary>reference + offset / (W_l, H_l) for points, (x, y) + offset / points · (w, h) / 2 for boxes.</summary>
    private Tensor<T> Locations(Tensor<T> referencePoints, Tensor<T> offsets, (int H, int W)[] spatialShapes, int batch, int queries)
    {
        ShapeMath.RequireRank(nameof(referencePoints), referencePoints.ShapeSpan, 4, "[batch, queries, levels, 2 or 4]");
        int corners = referencePoints.Dim(3);
        if (referencePoints.Dim(0) != batch || referencePoints.Dim(1) != queries || referencePoints.Dim(2) != NumLevels || corners is not (2 or 4))
            throw new ArgumentException(
                $"referencePoints: expected shape [{batch}, {queries}, {NumLevels}, 2 or 4], got {ShapeMath.Format(referencePoints.ShapeSpan)}.",
                nameof(referencePoints));
        var reference = referencePoints.Reshape(batch, queries, 1, NumLevels, 1, corners);
        if (corners == 2)
        {
            var normalizer = new T[NumLevels * 2];
            for (int l = 0; l < NumLevels; l++)
            {
                normalizer[2 * l] = T.CreateChecked(spatialShapes[l].W);
                normalizer[2 * l + 1] = T.CreateChecked(spatialShapes[l].H);
            }
            return reference.Add(offsets.Div(Tensor<T>.FromArray(normalizer, 1, 1, 1, NumLevels, 1, 2).To(offsets.Device)));
        }
        var centre = reference.Slice(5, 0, 2);
        var size = reference.Slice(5, 2, 2);
        return centre.Add(offsets.MulScalar(T.One / T.CreateChecked(NumPoints)).Mul(size).MulScalar(T.CreateChecked(0.5)));
    }

    private void RequireFeatures(string argumentName, Tensor<T> tensor)
    {
        ShapeMath.RequireRank(argumentName, tensor.ShapeSpan, 3, BatchFirst ? "[batch, n, embedDims]" : "[n, batch, embedDims]");
        if (tensor.Dim(2) != EmbedDims)
            throw new ArgumentException(
                $"{argumentName}: expected {EmbedDims} features (embedDims) last, got shape {ShapeMath.Format(tensor.ShapeSpan)}.", argumentName);
    }

    private static void RequirePositive(string name, int value)
    {
        if (value <= 0)
            throw new ArgumentOutOfRangeException(name, value, $"{name}: expected a value ≥ 1, got {value}.");
    }
}
