using DeformEngine.NN;

namespace DeformEngine.Examples.DeformableRoIPooling;

/// <summary>The four RoI poolings compared.</summary>
public enum HeadKind
{
    RoIAlign,
    DeformRoIPool,
    ModulatedDeformRoIPool,
    DeformPSRoIPool,
}

/// <summary>A small backbone with a DCNv2 stage: conv 3×3/2 (1→16), BN, ReLU; conv 3×3/2 (16→32),
/// BN, ReLU; modulated deformable conv 3×3 (32→32), BN, ReLU. Stride 4: a 96×96 canvas gives a
/// 24×24 map, and an object of 26–46 pixels spans 6–12 map cells.</summary>
internal sealed class Backbone : Module<float>
{
    public const int Channels = 32;
    public const double SpatialScale = 0.25;

    private readonly Conv2d<float> _conv1, _conv2;
    private readonly BatchNorm2d<float> _bn1, _bn2, _bn3;

    public Backbone(SeededRandom random)
    {
        _conv1 = RegisterModule("conv1", new Conv2d<float>(1, 16, 3, stride: 2, padding: 1, bias: false, random: random));
        _bn1 = RegisterModule("bn1", new BatchNorm2d<float>(16));
        _conv2 = RegisterModule("conv2", new Conv2d<float>(16, Channels, 3, stride: 2, padding: 1, bias: false, random: random));
        _bn2 = RegisterModule("bn2", new BatchNorm2d<float>(Channels));
        Dcn = RegisterModule("dcn", new DeformConv2d<float>(Channels, Channels, 3, padding: 1, modulation: true, random: random));
        _bn3 = RegisterModule("bn3", new BatchNorm2d<float>(Channels));
    }

    /// <summary>The DCNv2 stage.</summary>
    public DeformConv2d<float> Dcn { get; }

    public override Tensor<float> Forward(Tensor<float> input)
    {
        var x = _bn1.Forward(_conv1.Forward(input)).Relu();
        x = _bn2.Forward(_conv2.Forward(x)).Relu();
        return _bn3.Forward(Dcn.Forward(x)).Relu();
    }
}

/// <summary>The RoI pooling of one head, 7×7 bins over the stride-4 map, with the engine's modules:
/// aligned RoI Align; <see cref="DeformRoIPoolPack{T}"/> (DCNv1); <see cref="ModulatedDeformRoIPoolPack{T}"/>
/// (DCNv2); or position-sensitive maps (R-FCN's layout: a 1×1 conv to
/// <see cref="PsChannelsPerBin"/>·7·7 channels, bin (i, j) reading its own group) pooled by
/// <see cref="DeformPSRoIPoolPack{T}"/>. The offset branches are mmdetection's three fully connected
/// layers (width <see cref="OffsetBranchWidth"/>), last layer at zero.</summary>
internal sealed class RoIPooling : Module<float>
{
    public const int Bins = 7;
    public const int OffsetBranchWidth = 128;
    public const int PsChannelsPerBin = 8;
    public const double Gamma = 0.1;
    private const int SamplingRatio = 2;

    private readonly DeformRoIPoolPack<float>? _deform;
    private readonly ModulatedDeformRoIPoolPack<float>? _modulated;
    private readonly Conv2d<float>? _psConv;
    private readonly DeformPSRoIPoolPack<float>? _ps;

    public RoIPooling(HeadKind kind, SeededRandom random)
    {
        Kind = kind;
        switch (kind)
        {
            case HeadKind.DeformRoIPool:
                _deform = RegisterModule("pool", new DeformRoIPoolPack<float>((Bins, Bins), Backbone.Channels, OffsetBranchWidth,
                    Backbone.SpatialScale, SamplingRatio, Gamma, random));
                break;
            case HeadKind.ModulatedDeformRoIPool:
                _modulated = RegisterModule("pool", new ModulatedDeformRoIPoolPack<float>((Bins, Bins), Backbone.Channels, OffsetBranchWidth,
                    Backbone.SpatialScale, SamplingRatio, Gamma, random));
                break;
            case HeadKind.DeformPSRoIPool:
                _psConv = RegisterModule("ps_conv", new Conv2d<float>(Backbone.Channels, PsChannelsPerBin * Bins * Bins, 1, random: random));
                _ps = RegisterModule("pool", new DeformPSRoIPoolPack<float>(Backbone.SpatialScale, Bins, PsChannelsPerBin, groupSize: Bins,
                    partSize: Bins, samplePerPart: SamplingRatio, transStd: Gamma, offsetFcs: 3, deformFcChannels: OffsetBranchWidth, random: random));
                break;
        }
    }

    public HeadKind Kind { get; }

    /// <summary>Channels per bin of the pooled output.</summary>
    public int OutputChannels => Kind == HeadKind.DeformPSRoIPool ? PsChannelsPerBin : Backbone.Channels;

    /// <summary>Whether the pooling learns bin offsets.</summary>
    public bool Deformable => Kind != HeadKind.RoIAlign;

    /// <summary>Pools <paramref name="rois"/> [K, 5] (image, x1, y1, x2, y2 in canvas pixels, x2 and
    /// y2 exclusive) of <paramref name="features"/> into [K, C, 7, 7].</summary>
    public Tensor<float> Pool(Tensor<float> features, Tensor<float> rois) => Kind switch
    {
        HeadKind.RoIAlign => Functional.RoIAlign(features, rois, (Bins, Bins), Backbone.SpatialScale, SamplingRatio, aligned: true),
        HeadKind.DeformRoIPool => _deform!.Forward(features, rois),
        HeadKind.ModulatedDeformRoIPool => _modulated!.Forward(features, rois),
        _ => _ps!.Forward(_psConv!.Forward(features), InclusiveCorners(rois)),
    };

    public override Tensor<float> Forward(Tensor<float> input) =>
        throw new NotSupportedException("RoIPooling pools regions of interest: call Pool(features, rois).");

    /// <summary>The bin displacements of the last <see cref="Pool"/> as fractions of the RoI's width
    /// and height, [K, 2, 7, 7] (channel 0 = x, 1 = y); null for RoI Align.</summary>
    public float[]? LastBinOffsets()
    {
        // mmcv moves bin (i, j) by γ·w·offset[k, 0, i, j] (x) and γ·h·offset[k, 1, i, j] (y); MXNet by
        // transStd·w·trans (here part = bins, class-agnostic): both are γ·offset in RoI fractions.
        var raw = Kind switch
        {
            HeadKind.DeformRoIPool => _deform!.LastOffset,
            HeadKind.ModulatedDeformRoIPool => _modulated!.LastOffset,
            HeadKind.DeformPSRoIPool => _ps!.LastTrans,
            _ => null,
        };
        return raw?.ToArray().Select(v => (float)(v * Gamma)).ToArray();
    }

    /// <summary>The modulation masks [K, 1, 7, 7] of the last <see cref="Pool"/>; null unless modulated.</summary>
    public float[]? LastModulation() => _modulated?.LastMask?.ToArray();

    /// <summary>MXNet's position-sensitive pooling reads x2, y2 as inclusive pixel indices (it adds
    /// one pixel at the far end): our exclusive corners minus one cover the same pixels.</summary>
    internal static Tensor<float> InclusiveCorners(Tensor<float> rois)
    {
        var data = rois.ToArray();
        for (int k = 0; k < rois.Dim(0); k++)
        {
            data[k * 5 + 3] -= 1;
            data[k * 5 + 4] -= 1;
        }
        return Tensor<float>.FromArray(data, rois.Dim(0), 5);
    }
}

/// <summary>A two-stage detector's second stage on a shared backbone: RoI pooling, two fully
/// connected layers (fc6, fc7: the RoI feature), a classifier over background + classes and a
/// class-agnostic box regressor; and the R-CNN branch's own classifier (DCNv2 §3.3), which reads the
/// same RoI feature of a crop. Built from one seed, every head starts from the same backbone weights
/// and the same fc7 and output layers (fc6 too where the pooled width is the same).</summary>
internal sealed class TwoStageDetector : Module<float>
{
    public const int FeatureWidth = 256;

    private readonly Linear<float> _fc6, _fc7;

    public TwoStageDetector(HeadKind kind, int classes, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        Classes = classes;
        Backbone = RegisterModule("backbone", new Backbone(new SeededRandom(seed)));
        Pooling = RegisterModule("roi_pool", new RoIPooling(kind, new SeededRandom(seed + 2)));
        int pooled = Pooling.OutputChannels * RoIPooling.Bins * RoIPooling.Bins;
        // fc6's size depends on the pooling; the layers after it draw from a generator of their own
        // so that they start the same for every head.
        _fc6 = RegisterModule("fc6", new Linear<float>(pooled, FeatureWidth, random: new SeededRandom(seed + 1)));
        var headRandom = new SeededRandom(seed + 3);
        _fc7 = RegisterModule("fc7", new Linear<float>(FeatureWidth, FeatureWidth, random: headRandom));
        Classifier = RegisterModule("cls", new Linear<float>(FeatureWidth, classes + 1, random: headRandom));
        BoxRegressor = RegisterModule("bbox", new Linear<float>(FeatureWidth, 4, random: headRandom));
        RcnnClassifier = RegisterModule("rcnn_cls", new Linear<float>(FeatureWidth, classes + 1, random: headRandom));
    }

    /// <summary>Object classes (the classifier has one more output: background, index 0).</summary>
    public int Classes { get; }
    public HeadKind Kind => Pooling.Kind;
    public Backbone Backbone { get; }
    public RoIPooling Pooling { get; }
    public Linear<float> Classifier { get; }
    public Linear<float> BoxRegressor { get; }
    public Linear<float> RcnnClassifier { get; }

    /// <summary>fc7(fc6(flatten(pool(features, rois)))) with ReLUs: the RoI feature [K, 256] that
    /// feature mimicking compares.</summary>
    public Tensor<float> RoIFeatures(Tensor<float> features, Tensor<float> rois) =>
        _fc7.Forward(_fc6.Forward(Pooling.Pool(features, rois).Flatten()).Relu()).Relu();

    public override Tensor<float> Forward(Tensor<float> input) =>
        throw new NotSupportedException("TwoStageDetector needs RoIs: call Backbone.Forward, then RoIFeatures.");
}
