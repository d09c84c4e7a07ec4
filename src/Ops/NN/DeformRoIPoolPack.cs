namespace DeformEngine.NN;

/// <summary>Deformable RoI pooling that predicts its own bin offsets (DCNv1), mmcv's
/// <c>DeformRoIPoolPack</c>: x = DeformRoIPool(input, rois, no offset) (aligned RoI Align),
/// offset = offset_fc(flatten(x)) reshaped to [K, 2, PH, PW], out = DeformRoIPool(input, rois, offset).
/// <para><c>offset_fc</c> is Linear(PH·PW·C → F), ReLU, Linear(F → F), ReLU, Linear(F → PH·PW·2)
/// with F = <c>deformFcChannels</c>; its last layer starts at zero, so training starts as aligned
/// RoI Align. State names are mmcv's: <c>offset_fc.0.weight</c>, <c>offset_fc.0.bias</c>,
/// <c>offset_fc.2.*</c>, <c>offset_fc.4.*</c>. The offsets are normalised (channel 0 = x) and
/// scaled by γ·RoI size, see <see cref="Functional.DeformRoIPool{T}"/>.</para></summary>
public sealed class DeformRoIPoolPack<T> : RoIPoolModule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <param name="outputSize">Bins per RoI (PH, PW).</param>
    /// <param name="outputChannels">Channels C of the input (and the output).</param>
    /// <param name="deformFcChannels">Width F of the hidden layers of the offset branch.</param>
    /// <param name="spatialScale">Feature-map pixels per image pixel.</param>
    /// <param name="samplingRatio">Samples per bin side; ≤ 0 chooses ⌈roi size / bins⌉ per RoI.</param>
    /// <param name="gamma">Scale of the offsets relative to the RoI size.</param>
    /// <param name="random">Generator of the hidden layers' init; null means <see cref="Init.DefaultRandom"/>.</param>
    public DeformRoIPoolPack(Size2 outputSize, int outputChannels, int deformFcChannels = 1024, double spatialScale = 1.0,
        int samplingRatio = 0, double gamma = 0.1, SeededRandom? random = null)
    {
        RequirePositive(nameof(outputSize), Math.Min(outputSize.H, outputSize.W));
        RequirePositive(nameof(outputChannels), outputChannels);
        RequirePositive(nameof(deformFcChannels), deformFcChannels);
        RoIChecks.RequireSpatialScale(spatialScale);
        RoIChecks.RequireSamplingRatio(samplingRatio);
        RoIChecks.RequireFinite(nameof(gamma), gamma);
        OutputSize = outputSize;
        OutputChannels = outputChannels;
        DeformFcChannels = deformFcChannels;
        SpatialScale = spatialScale;
        SamplingRatio = samplingRatio;
        Gamma = gamma;
        int bins = outputSize.H * outputSize.W;
        OffsetFc = RegisterModule("offset_fc", ZeroEndedFc(bins * outputChannels, deformFcChannels, bins * 2, 3, random ?? Init.DefaultRandom));
    }

    /// <summary>Bins per RoI (PH, PW).</summary>
    public Size2 OutputSize { get; }
    /// <summary>C, the channels of the input and the output.</summary>
    public int OutputChannels { get; }
    /// <summary>F, the width of the offset branch's hidden layers.</summary>
    public int DeformFcChannels { get; }
    /// <summary>Feature-map pixels per image pixel (1/stride).</summary>
    public double SpatialScale { get; }
    /// <summary>Samples per bin side; ≤ 0 chooses ⌈roi size / bins⌉ per RoI.</summary>
    public int SamplingRatio { get; }
    /// <summary>γ: scale of the offsets relative to the RoI size.</summary>
    public double Gamma { get; }

    /// <summary>The offset branch, named <c>offset_fc</c>.</summary>
    public Sequential<T> OffsetFc { get; }

    /// <summary>The parameters of the offset branch, for a parameter group of their own (mmdetection
    /// trains them at the base learning rate).</summary>
    public IEnumerable<Parameter<T>> OffsetParameters => OffsetFc.Parameters();

    /// <summary>The offsets [K, 2, PH, PW] of the last forward (no history).</summary>
    public Tensor<T>? LastOffset { get; private set; }

    /// <summary>Features [N, C, H, W] and RoIs [K, 5] → [K, C, PH, PW]; keeps the predicted offsets in
    /// <see cref="LastOffset"/>.</summary>
    /// <exception cref="ArgumentException">The input does not have <see cref="OutputChannels"/> channels, or the RoIs
    /// are not [K, 5].</exception>
    public override Tensor<T> Forward(Tensor<T> input, Tensor<T> rois)
    {
        RequireChannels(input, OutputChannels);
        var pooled = Functional.DeformRoIPool(input, rois, null, OutputSize, SpatialScale, SamplingRatio, Gamma);
        int count = pooled.Dim(0);
        var offset = OffsetFc.Forward(pooled.Flatten()).Reshape(count, 2, OutputSize.H, OutputSize.W);
        LastOffset = offset.Detach();
        return Functional.DeformRoIPool(input, rois, offset, OutputSize, SpatialScale, SamplingRatio, Gamma);
    }
}
