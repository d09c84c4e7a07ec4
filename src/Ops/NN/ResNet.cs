namespace DeformEngine.NN;

/// <summary>The residual block a <see cref="ResNet{T}"/> stacks.</summary>
public enum ResNetBlockKind
{
    /// <summary>Two 3×3 convolutions (ResNet-18/34), expansion 1.</summary>
    Basic,
    /// <summary>1×1, 3×3 (strided, as torchvision), 1×1 convolutions (ResNet-50/101), expansion 4.</summary>
    Bottleneck,
}

/// <summary>What <see cref="ResNet{T}"/> builds. <see cref="DcnStages"/> lists 1-based stages
/// (layer1 … layerK) whose 3×3 convolutions become deformable, as mmdetection's
/// <c>stage_with_dcn</c>: ResNet-50-DCN is <c>DcnStages = [2, 3, 4]</c>.</summary>
public sealed record ResNetConfig
{
    /// <summary>The residual block: <see cref="ResNetBlockKind.Basic"/> (ResNet-18/34) or
    /// <see cref="ResNetBlockKind.Bottleneck"/> (ResNet-50/101).</summary>
    public ResNetBlockKind Block { get; init; } = ResNetBlockKind.Basic;

    /// <summary>Blocks per stage; the number of stages is its length.</summary>
    public int[] Layers { get; init; } = [2, 2, 2, 2];

    /// <summary>Width (planes) of each stage; the stem has the first one.</summary>
    public int[] Widths { get; init; } = [64, 128, 256, 512];

    /// <summary>Channels of the input image (3 for RGB).</summary>
    public int InChannels { get; init; } = 3;

    /// <summary>Outputs of the classification head (<c>avgpool</c>, <c>fc</c>); 0 builds the backbone
    /// alone, as mmdetection's ResNet, whose checkpoints hold no <c>fc</c>.</summary>
    public int NumClasses { get; init; } = 1000;

    /// <summary>A 3×3 stride-1 stem without max pooling, for small (28×28, 32×32) images, instead
    /// of torchvision's 7×7 stride-2 convolution and 3×3 stride-2 max pooling.</summary>
    public bool SmallStem { get; init; }

    /// <summary>1-based stages whose 3×3 convolutions are deformable (mmdetection's <c>stage_with_dcn</c>); empty for
    /// none.</summary>
    public int[] DcnStages { get; init; } = [];

    /// <summary>DCNv2 (modulated) when true, DCNv1 otherwise.</summary>
    public bool DcnModulation { get; init; } = true;

    /// <summary>Offset groups of each deformable convolution (mmdetection's <c>deform_groups</c>).</summary>
    public int DcnOffsetGroups { get; init; } = 1;

    /// <summary>Seed of the weight initialisation.</summary>
    public long Seed { get; init; }

    /// <summary>ResNet-18: basic blocks [2, 2, 2, 2], 1000 classes, no deformable stage.</summary>
    public static ResNetConfig ResNet18 => new();

    /// <summary>ResNet-50: bottleneck blocks [3, 4, 6, 3], 1000 classes, no deformable stage.</summary>
    public static ResNetConfig ResNet50 => new() { Block = ResNetBlockKind.Bottleneck, Layers = [3, 4, 6, 3] };

    /// <summary>ResNet-50 with DCNv2 in stages 2–4, the common detection backbone.</summary>
    public static ResNetConfig ResNet50Dcn => ResNet50 with { DcnStages = [2, 3, 4] };
}

/// <summary>torchvision's ResNet with the same state names (<c>conv1</c>, <c>bn1</c>,
/// <c>layer1.0.conv1.weight</c>, <c>layer2.0.downsample.0.weight</c>, <c>fc.weight</c> …), whose
/// chosen stages use <see cref="DeformConv2d{T}"/> for their 3×3 convolutions (adding
/// <c>….conv2.conv_offset.weight/bias</c> as mmdetection's ResNet-DCN, whose checkpoints therefore load
/// by name; with <see cref="ResNetConfig.NumClasses"/> = 0 it is mmdetection's backbone, and
/// <see cref="ForwardFeatures"/> gives its outputs). Convolutions start from
/// kaiming_normal (fan_out), BatchNorm from γ = 1, β = 0; a deformable layer draws the same main
/// weights as the plain convolution it replaces, so the plain and DCN models start alike.</summary>
public sealed class ResNet<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Module<T>? _maxPool;
    private readonly Sequential<T>[] _stages;

    /// <summary>Builds the network <paramref name="config"/> describes, its weights drawn from
    /// <see cref="ResNetConfig.Seed"/>.</summary>
    /// <exception cref="ArgumentException">The configuration lists no stage, null or mismatched arrays, a stage outside
    /// 1…K in <see cref="ResNetConfig.DcnStages"/>, or non-positive sizes.</exception>
    public ResNet(ResNetConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Validate(config);
        Config = config;
        var random = new SeededRandom(config.Seed);
        int stemWidth = config.Widths[0];
        Conv1 = RegisterModule("conv1", config.SmallStem
            ? Layers.Conv<T>(random, config.InChannels, stemWidth, 3, 1, 1)
            : Layers.Conv<T>(random, config.InChannels, stemWidth, 7, 2, 3));
        Bn1 = RegisterModule("bn1", new BatchNorm2d<T>(stemWidth));
        RegisterModule("relu", new ReLU<T>());
        if (!config.SmallStem) _maxPool = RegisterModule("maxpool", new MaxPool2d<T>(3, 2, 1));

        int expansion = config.Block == ResNetBlockKind.Basic ? 1 : 4;
        int inPlanes = stemWidth;
        _stages = new Sequential<T>[config.Layers.Length];
        for (int s = 0; s < config.Layers.Length; s++)
        {
            int planes = config.Widths[s], stride = s == 0 ? 1 : 2;
            var dcn = config.DcnStages.Contains(s + 1) ? new DcnOptions(config.DcnModulation, config.DcnOffsetGroups) : null;
            var stage = new Sequential<T>();
            for (int b = 0; b < config.Layers[s]; b++)
            {
                int blockStride = b == 0 ? stride : 1;
                Sequential<T>? downsample = null;
                if (b == 0 && (blockStride != 1 || inPlanes != planes * expansion))
                    downsample = new Sequential<T>(
                        Layers.Conv<T>(random, inPlanes, planes * expansion, 1, blockStride, 0), new BatchNorm2d<T>(planes * expansion));
                stage.Add(config.Block == ResNetBlockKind.Basic
                    ? new BasicBlock<T>(random, inPlanes, planes, blockStride, downsample, dcn)
                    : new Bottleneck<T>(random, inPlanes, planes, blockStride, downsample, dcn));
                inPlanes = planes * expansion;
            }
            _stages[s] = RegisterModule($"layer{s + 1}", stage);
        }
        if (config.NumClasses == 0) return;
        RegisterModule("avgpool", new AdaptiveAvgPool2d<T>(1));
        Fc = RegisterModule("fc", new Linear<T>(inPlanes, config.NumClasses, random: random));
    }

    /// <summary>The configuration the network was built from.</summary>
    public ResNetConfig Config { get; }
    /// <summary>The stem convolution (<c>conv1</c>): 7×7 stride 2, or 3×3 stride 1 with
    /// <see cref="ResNetConfig.SmallStem"/>.</summary>
    public Module<T> Conv1 { get; }
    /// <summary>The stem's batch normalisation (<c>bn1</c>).</summary>
    public BatchNorm2d<T> Bn1 { get; }
    /// <summary>The classifier; null without a head (<see cref="ResNetConfig.NumClasses"/> = 0).</summary>
    public Linear<T>? Fc { get; }

    /// <summary>The deformable layers by their state-dict prefix (e.g. <c>layer2.0.conv2</c>).</summary>
    public IEnumerable<(string Name, DeformConv2d<T> Layer)> DeformableLayers =>
        NamedModules().Where(m => m.Module is DeformConv2d<T>).Select(m => (m.Name, (DeformConv2d<T>)m.Module));

    /// <summary>The class scores [N, NumClasses]; without a head, the last stage's feature map.</summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        var x = ForwardFeatures(input)[^1];
        if (Fc is null) return x;
        return Fc.Forward(Functional.AdaptiveAvgPool2d(x, (1, 1)).Flatten(1));
    }

    /// <summary>The output of each stage (layer1 … layerK), as mmdetection's backbone returns them
    /// with <c>out_indices = (0, 1, 2, 3)</c>.</summary>
    public IReadOnlyList<Tensor<T>> ForwardFeatures(Tensor<T> input)
    {
        var x = Bn1.Forward(Conv1.Forward(input)).Relu();
        if (_maxPool is not null) x = _maxPool.Forward(x);
        var features = new Tensor<T>[_stages.Length];
        for (int s = 0; s < _stages.Length; s++) features[s] = x = _stages[s].Forward(x);
        return features;
    }

    private static void Validate(ResNetConfig config)
    {
        // A record's init accessors take null as readily as any array.
        foreach (var (name, array) in new[] { ("Layers", config.Layers), ("Widths", config.Widths), ("DcnStages", config.DcnStages) })
            if (array is null)
                throw new ArgumentException($"config: {name} is null; expected an array ({name} = [] for none).", nameof(config));
        if (config.Layers.Length == 0 || config.Layers.Any(n => n < 1))
            throw new ArgumentException($"config: Layers must list at least one stage of ≥ 1 block, got [{string.Join(", ", config.Layers)}].", nameof(config));
        if (config.Widths.Length != config.Layers.Length || config.Widths.Any(w => w < 1))
            throw new ArgumentException(
                $"config: Widths must give one positive width per stage ({config.Layers.Length}), got [{string.Join(", ", config.Widths)}].", nameof(config));
        if (config.DcnStages.Any(s => s < 1 || s > config.Layers.Length))
            throw new ArgumentException(
                $"config: DcnStages are 1-based stage numbers in [1, {config.Layers.Length}], got [{string.Join(", ", config.DcnStages)}].", nameof(config));
        if (config.InChannels < 1 || config.NumClasses < 0)
            throw new ArgumentException(
                $"config: InChannels must be positive and NumClasses non-negative, got {config.InChannels} and {config.NumClasses}.", nameof(config));
    }
}

/// <summary>How a stage's 3×3 convolutions are made deformable.</summary>
internal sealed record DcnOptions(bool Modulation, int OffsetGroups);

/// <summary>Convolution factories of the ResNet builder: the weights are drawn by
/// kaiming_normal(fan_out) from the builder's generator whether the layer is plain or deformable.</summary>
internal static class Layers
{
    public static Conv2d<T> Conv<T>(SeededRandom random, int inChannels, int outChannels, int kernel, int stride, int padding)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var conv = new Conv2d<T>(inChannels, outChannels, kernel, stride, padding, bias: false, random: new SeededRandom(0));
        Init.KaimingNormalFanOut<T>(random, conv.Weight.Shape).AsSpan().CopyTo(conv.Weight.AsSpan());
        return conv;
    }

    public static Module<T> Conv3x3<T>(SeededRandom random, int inChannels, int outChannels, int stride, DcnOptions? dcn)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (dcn is null) return Conv<T>(random, inChannels, outChannels, 3, stride, 1);
        var layer = new DeformConv2d<T>(inChannels, outChannels, 3, 1, stride, bias: false, modulation: dcn.Modulation,
            offsetGroups: dcn.OffsetGroups, random: new SeededRandom(0));
        Init.KaimingNormalFanOut<T>(random, layer.Weight.Shape).AsSpan().CopyTo(layer.Weight.AsSpan());
        return layer;
    }
}

/// <summary>relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), both convolutions 3×3.</summary>
public sealed class BasicBlock<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Module<T> _conv1, _conv2;
    private readonly BatchNorm2d<T> _bn1, _bn2;
    private readonly Sequential<T>? _downsample;

    internal BasicBlock(SeededRandom random, int inPlanes, int planes, int stride, Sequential<T>? downsample, DcnOptions? dcn)
    {
        _conv1 = RegisterModule("conv1", Layers.Conv3x3<T>(random, inPlanes, planes, stride, dcn));
        _bn1 = RegisterModule("bn1", new BatchNorm2d<T>(planes));
        RegisterModule("relu", new ReLU<T>());
        _conv2 = RegisterModule("conv2", Layers.Conv3x3<T>(random, planes, planes, 1, dcn));
        _bn2 = RegisterModule("bn2", new BatchNorm2d<T>(planes));
        if (downsample is not null) _downsample = RegisterModule("downsample", downsample);
    }

    /// <summary>[N, inPlanes, H, W] → [N, planes, H/stride, W/stride].</summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        var x = _bn1.Forward(_conv1.Forward(input)).Relu();
        x = _bn2.Forward(_conv2.Forward(x));
        var shortcut = _downsample?.Forward(input) ?? input;
        return x.Add(shortcut).Relu();
    }
}

/// <summary>relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x))))))) + shortcut(x)) with 1×1, 3×3
/// (strided, deformable in DCN stages), 1×1 convolutions and 4× expansion.</summary>
public sealed class Bottleneck<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Module<T> _conv1, _conv2, _conv3;
    private readonly BatchNorm2d<T> _bn1, _bn2, _bn3;
    private readonly Sequential<T>? _downsample;

    internal Bottleneck(SeededRandom random, int inPlanes, int planes, int stride, Sequential<T>? downsample, DcnOptions? dcn)
    {
        _conv1 = RegisterModule("conv1", Layers.Conv<T>(random, inPlanes, planes, 1, 1, 0));
        _bn1 = RegisterModule("bn1", new BatchNorm2d<T>(planes));
        _conv2 = RegisterModule("conv2", Layers.Conv3x3<T>(random, planes, planes, stride, dcn));
        _bn2 = RegisterModule("bn2", new BatchNorm2d<T>(planes));
        _conv3 = RegisterModule("conv3", Layers.Conv<T>(random, planes, planes * 4, 1, 1, 0));
        _bn3 = RegisterModule("bn3", new BatchNorm2d<T>(planes * 4));
        RegisterModule("relu", new ReLU<T>());
        if (downsample is not null) _downsample = RegisterModule("downsample", downsample);
    }

    /// <summary>[N, inPlanes, H, W] → [N, 4·planes, H/stride, W/stride].</summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        var x = _bn1.Forward(_conv1.Forward(input)).Relu();
        x = _bn2.Forward(_conv2.Forward(x)).Relu();
        x = _bn3.Forward(_conv3.Forward(x));
        var shortcut = _downsample?.Forward(input) ?? input;
        return x.Add(shortcut).Relu();
    }
}
