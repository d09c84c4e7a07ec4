using DeformEngine.Optim;

namespace DeformEngine.NN;

/// <summary>Deformable position-sensitive RoI pooling that predicts its own part offsets, the head of
/// the original (MXNet) Deformable ConvNets Faster R-CNN symbol:
/// x = DeformPSRoIPool(input, rois, noTrans), trans = offset_fc(flatten(x)) reshaped to
/// [K, 2, part, part] (class-agnostic: channel 0 = x, 1 = y), out = DeformPSRoIPool(input, rois, trans)
/// with the same geometry, see <see cref="Functional.DeformPSRoIPool{T}"/>.
/// <para><c>offset_fc</c> is, by default, the symbol's single FullyConnected
/// (P²·outputDim → 2·part²), zero-initialised as that symbol's init does; with
/// <c>offsetFcs</c> &gt; 1 it is mmdetection v1's DeformRoIPoolingPack branch (Linear, ReLU, …, Linear,
/// hidden width <c>deformFcChannels</c>). The last layer always starts at zero, so training starts
/// as plain position-sensitive pooling. State names: <c>offset_fc.0.weight</c>,
/// <c>offset_fc.0.bias</c>, … (MXNet's <c>offset_weight</c>/<c>offset_bias</c> are
/// <c>offset_fc.0.*</c>).</para>
/// <para>The symbol trains the offset FC at <c>lr_mult = 0.01</c>
/// (<see cref="OffsetLrMultiplier"/>); <see cref="SplitOffsets"/> builds the optimizer groups.</para></summary>
public sealed class DeformPSRoIPoolPack<T> : RoIPoolModule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The learning-rate multiplier of the offset FC in the Deformable ConvNets Faster
    /// R-CNN symbols (<c>FullyConnected(name='offset', …, lr_mult=0.01)</c>).</summary>
    public const double OffsetLrMultiplier = 0.01;

    /// <param name="spatialScale">Feature-map pixels per image pixel.</param>
    /// <param name="pooledSize">Bins per side P.</param>
    /// <param name="outputDim">Output channels; the input has outputDim·groupSize² channels.</param>
    /// <param name="groupSize">Position-sensitive groups per side G (1 in the Faster R-CNN head).</param>
    /// <param name="partSize">Offset parts per side; 0 means P.</param>
    /// <param name="samplePerPart">Samples per bin side.</param>
    /// <param name="transStd">Scale of the offsets relative to the RoI size.</param>
    /// <param name="offsetFcs">Linear layers of the offset branch (1 in the MXNet symbol, 3 in mmdetection v1).</param>
    /// <param name="deformFcChannels">Width of the hidden layers when <paramref name="offsetFcs"/> &gt; 1.</param>
    /// <param name="random">Generator of the hidden layers' init; null means <see cref="Init.DefaultRandom"/>.</param>
    public DeformPSRoIPoolPack(double spatialScale, int pooledSize, int outputDim, int groupSize = 1, int partSize = 0,
        int samplePerPart = 4, double transStd = 0.1, int offsetFcs = 1, int deformFcChannels = 1024, SeededRandom? random = null)
    {
        RequirePositive(nameof(pooledSize), pooledSize);
        RequirePositive(nameof(outputDim), outputDim);
        RequirePositive(nameof(groupSize), groupSize);
        if (partSize < 0)
            throw new ArgumentOutOfRangeException(nameof(partSize), partSize, $"partSize: expected ≥ 1, or 0 for pooledSize, got {partSize}.");
        RequirePositive(nameof(offsetFcs), offsetFcs);
        RequirePositive(nameof(deformFcChannels), deformFcChannels);
        RoIChecks.RequireSpatialScale(spatialScale);
        RoIChecks.RequirePositive(nameof(samplePerPart), samplePerPart, RoIChecks.MaxGridPerSide);
        RoIChecks.RequireFinite(nameof(transStd), transStd);
        SpatialScale = spatialScale;
        PooledSize = pooledSize;
        OutputDim = outputDim;
        GroupSize = groupSize;
        PartSize = partSize == 0 ? pooledSize : partSize;
        SamplePerPart = samplePerPart;
        TransStd = transStd;
        OffsetFc = RegisterModule("offset_fc", ZeroEndedFc(pooledSize * pooledSize * outputDim, deformFcChannels,
            2 * PartSize * PartSize, offsetFcs, random ?? Init.DefaultRandom));
    }

    /// <summary>Feature-map pixels per image pixel (1/stride).</summary>
    public double SpatialScale { get; }
    /// <summary>P, bins per side.</summary>
    public int PooledSize { get; }
    /// <summary>Output channels; the input has OutputDim·GroupSize² channels.</summary>
    public int OutputDim { get; }
    /// <summary>Position-sensitive groups per side.</summary>
    public int GroupSize { get; }
    /// <summary>Offset parts per side (P when 0 was given).</summary>
    public int PartSize { get; }
    /// <summary>Samples per bin side.</summary>
    public int SamplePerPart { get; }
    /// <summary>Scale of the offsets relative to the RoI size.</summary>
    public double TransStd { get; }

    /// <summary>The offset branch, named <c>offset_fc</c>.</summary>
    public Sequential<T> OffsetFc { get; }

    /// <summary>The parameters of the offset branch; train them at <see cref="OffsetLrMultiplier"/>.</summary>
    public IEnumerable<Parameter<T>> OffsetParameters => OffsetFc.Parameters();

    /// <summary>The part offsets [K, 2, part, part] of the last forward (no history).</summary>
    public Tensor<T>? LastTrans { get; private set; }

    /// <summary>Features [N, OutputDim·GroupSize², H, W] and RoIs [K, 5] → [K, OutputDim, P, P]; keeps the predicted
    /// part offsets in <see cref="LastTrans"/>.</summary>
    /// <exception cref="ArgumentException">The input has the wrong number of channels, or the RoIs are not [K,
    /// 5].</exception>
    public override Tensor<T> Forward(Tensor<T> input, Tensor<T> rois)
    {
        RequireChannels(input, OutputDim * GroupSize * GroupSize);
        var pooled = Pool(input, rois, null, noTrans: true);
        var trans = OffsetFc.Forward(pooled.Flatten()).Reshape(pooled.Dim(0), 2, PartSize, PartSize);
        LastTrans = trans.Detach();
        return Pool(input, rois, trans, noTrans: false);
    }

    private Tensor<T> Pool(Tensor<T> input, Tensor<T> rois, Tensor<T>? trans, bool noTrans) =>
        Functional.DeformPSRoIPool(input, rois, trans, SpatialScale, OutputDim, GroupSize, PooledSize, PartSize,
            SamplePerPart, TransStd, noTrans);

    /// <summary>Two groups for <paramref name="model"/>: every parameter except the offset branches of
    /// its <see cref="DeformPSRoIPoolPack{T}"/> modules at multiplier 1 ("main"), and those branches at
    /// <paramref name="offsetLrMultiplier"/> ("offsets"; the symbols' 0.01 by default).</summary>
    public static ParameterGroup<T>[] SplitOffsets(Module<T> model, double offsetLrMultiplier = OffsetLrMultiplier)
    {
        ArgumentNullException.ThrowIfNull(model);
        var offsetParameters = model.Modules().OfType<DeformPSRoIPoolPack<T>>().SelectMany(m => m.OffsetParameters)
            .ToHashSet(ReferenceEqualityComparer.Instance);
        return [
            new ParameterGroup<T>(model.Parameters().Where(p => !offsetParameters.Contains(p)), name: "main"),
            new ParameterGroup<T>(model.Parameters().Where(p => offsetParameters.Contains(p)), offsetLrMultiplier, name: "offsets")];
    }
}
