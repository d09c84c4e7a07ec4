using DeformEngine;
using DeformEngine.Explain;
using DeformEngine.IO;

namespace GradientFlow;

/// <summary>One DCNv2 layer as mmcv builds it: an offset branch conv_offset (a regular 3×3
/// convolution over the layer's input, "p_conv" in some write-ups) whose output gives 2·k² offsets
/// and k² mask logits (sigmoid), then the deformable convolution itself.</summary>
internal sealed record DcnLayer(string Name, Tensor<double> Weight, Tensor<double>? Bias,
    Tensor<double> OffsetWeight, Tensor<double>? OffsetBias, int Padding, int Dilation)
{
    public int KernelPoints => Weight.Dim(2) * Weight.Dim(3);

    public bool Modulated => OffsetWeight.Dim(0) == 3 * KernelPoints;

    /// <summary>Runs the layer (recording the graph when the input requires a gradient) and returns
    /// the output with the deformable call it made.</summary>
    public (Tensor<double> Output, DeformConvCall<double> Call) Forward(Tensor<double> input)
    {
        var branch = Functional.Conv2d(input, OffsetWeight, OffsetBias, padding: (Padding, Padding), dilation: (Dilation, Dilation));
        int offsetChannels = 2 * KernelPoints;
        var offset = branch.Slice(1, 0, offsetChannels);
        var mask = Modulated ? branch.Slice(1, offsetChannels, KernelPoints).Sigmoid() : null;
        var call = new DeformConvCall<double>(input, offset, Weight, Bias, null, (Padding, Padding), (Dilation, Dilation), mask);
        return (call.Run(), call);
    }

    /// <summary>The same layer as a regular convolution (offsets 0, no mask).</summary>
    public Tensor<double> ForwardRegular(Tensor<double> input) =>
        Functional.Conv2d(input, Weight, Bias, padding: (Padding, Padding), dilation: (Dilation, Dilation));

    /// <summary>A layer with seeded random weights; the offset branch is scaled so that offsets are
    /// a pixel or two where the image has structure (and 0 on flat background, the bias being 0).</summary>
    public static DcnLayer Random(string name, long seed, int inChannels, int outChannels, int dilation, double offsetScale)
    {
        int k = 3;
        double fanIn = inChannels * k * k;
        return new DcnLayer(name,
            Tensor<double>.Randn(seed, outChannels, inChannels, k, k).MulScalar(Math.Sqrt(2 / fanIn)),
            Tensor<double>.Randn(seed + 1, outChannels).MulScalar(0.1),
            Tensor<double>.Randn(seed + 2, 3 * k * k, inChannels, k, k).MulScalar(offsetScale / Math.Sqrt(fanIn)),
            Tensor<double>.Zeros(3 * k * k),
            Padding: dilation * (k - 1) / 2, Dilation: dilation);
    }
}

/// <summary>A plain convolution or pooling window inside a <see cref="Prelude"/>: all the plots need
/// to place the layers above it on the image.</summary>
internal sealed record WindowStep((int H, int W) Kernel, (int H, int W) Stride, (int H, int W) Padding, bool Pooling = false)
{
    public static WindowStep MaxPool(int size) => new((size, size), (size, size), (0, 0), Pooling: true);

    public SamplingLayer Over(int height, int width) => Pooling
        ? SamplingLayer.Pooling(height, width, Kernel.H, Stride.H)
        : SamplingLayer.Window(height, width, Kernel, Stride, Padding);
}

/// <summary>What runs before a DCN layer: <see cref="Apply"/> turns the previous layer's output (the
/// image for the first) into this layer's input; <see cref="Steps"/> are the convolutions and pools it
/// contains, bottom first (elementwise steps such as ReLU or BatchNorm move nothing).</summary>
internal sealed record Prelude(string Text, Func<Tensor<double>, Tensor<double>> Apply, IReadOnlyList<WindowStep> Steps)
{
    public static readonly Prelude None = new("", x => x, []);
    public static readonly Prelude Relu = new("ReLU", x => x.Relu(), []);
}

/// <summary>DCN layers, each with what runs before it: image → [prelude 1] → DCN 1 → [prelude 2] → DCN 2.</summary>
internal sealed record Network(IReadOnlyList<(Prelude Before, DcnLayer Layer)> Stages, string Origin)
{
    public IReadOnlyList<DcnLayer> Layers => Stages.Select(s => s.Layer).ToList();

    /// <summary>The output of every layer and the deformable call each made (offsets and masks
    /// detached: what the explainer and the plots read).</summary>
    public List<(Tensor<double> Output, DeformConvCall<double> Call)> Run(Tensor<double> image)
    {
        var result = new List<(Tensor<double>, DeformConvCall<double>)>();
        using var _ = Autograd.NoGrad();
        var x = image;
        foreach (var (before, layer) in Stages)
        {
            var (output, call) = layer.Forward(before.Apply(x));
            result.Add((output, call));
            x = output;
        }
        return result;
    }

    /// <summary>Σ_c |∂ top[0, o, y, x] / ∂ image[0, c]| through the whole network, offset branches
    /// included (they see the image too); with <paramref name="regular"/> every layer is a plain
    /// convolution with the same weights.</summary>
    public double[] ReceptiveField(Tensor<double> image, OutputUnit unit, bool regular)
    {
        var leaf = image.Detach();
        leaf.RequiresGrad = true;
        Tensor<double> x = leaf;
        foreach (var (before, layer) in Stages)
        {
            var input = before.Apply(x);
            x = regular ? layer.ForwardRegular(input) : layer.Forward(input).Output;
        }
        var grad = Tensor<double>.Zeros(x.Shape);
        grad[unit.N, unit.O, unit.Y, unit.X] = 1;
        x.Backward(grad);
        int h = image.Dim(2), w = image.Dim(3), c = image.Dim(1);
        var g = leaf.Grad!.ToArray();
        var map = new double[h * w];
        for (int ch = 0; ch < c; ch++)
            for (int p = 0; p < h * w; p++) map[p] += Math.Abs(g[ch * h * w + p]);
        return map;
    }

    /// <summary>The layers for the plots, bottom first: each prelude's convolutions and pools as
    /// <see cref="SamplingLayer.Window"/> steps, then the DCN layer.</summary>
    public List<SamplingLayer> SamplingStack(Tensor<double> image, IReadOnlyList<(Tensor<double> Output, DeformConvCall<double> Call)> runs)
    {
        var stack = new List<SamplingLayer>();
        int height = image.Dim(2), width = image.Dim(3);
        for (int l = 0; l < Stages.Count; l++)
        {
            foreach (var step in Stages[l].Before.Steps)
            {
                var window = step.Over(height, width);
                stack.Add(window);
                (height, width) = (window.Geometry.Conv.OutH, window.Geometry.Conv.OutW);
            }
            var layer = SamplingLayer.From(runs[l].Call);
            // The steps are written by hand next to the code they describe; the shapes the run
            // produced catch a step that is missing or wrong.
            if (layer.Geometry.Conv.Height != height || layer.Geometry.Conv.Width != width)
                throw new InvalidOperationException(
                    $"{Stages[l].Layer.Name}: the steps before it give {height}×{width}, but it read {layer.Geometry.Conv.Height}×{layer.Geometry.Conv.Width}.");
            stack.Add(layer);
            (height, width) = (layer.Geometry.Conv.OutH, layer.Geometry.Conv.OutW);
        }
        return stack;
    }

    public static Network Random(long seed) => new(
    [
        (Prelude.None, DcnLayer.Random("dcn1", seed, 1, 4, dilation: 1, offsetScale: 1.2)),
        (Prelude.Relu, DcnLayer.Random("dcn2", seed + 10, 4, 4, dilation: 2, offsetScale: 3.0)),
    ], $"random weights (seed {seed})");

    /// <summary>The DCN layers of a weights file (mmcv naming: P.weight, P.bias, P.conv_offset.weight,
    /// P.conv_offset.bias), in the order of the file. Two layouts are understood:
    /// DCN layers whose first reads a one-channel image, a following one stacked on it (with a ReLU
    /// between) when its input channels match; and the DeformedFashion model (conv1 → bn1 → ReLU →
    /// 2×2 max pool → conv2 (DCN) → bn2 → ReLU → 2×2 max pool → conv3 (DCN)), whose plain stem and
    /// BatchNorms (running statistics, as in evaluation) are rebuilt from the file. Stride 1 and
    /// 'same' padding are assumed for the DCN layers, as the file does not record them.</summary>
    public static Network FromWeights(string path, TextWriter log)
    {
        var tensors = SafeTensors.Load<double>(path);
        var order = tensors.Keys.ToList();
        const string suffix = ".conv_offset.weight";
        var prefixes = order.Where(n => n.EndsWith(suffix, StringComparison.Ordinal)).Select(n => n[..^suffix.Length])
            .Where(p => tensors.ContainsKey(p + ".weight")).ToList();
        if (prefixes.Count == 0)
            throw new InvalidDataException(
                $"{path}: no deformable layer found (expected tensors named P.weight and P.conv_offset.weight, mmcv's naming); " +
                $"the file has {string.Join(", ", order.Take(8))}{(order.Count > 8 ? ", …" : "")}.");
        var stages = new List<(Prelude, DcnLayer)>();
        foreach (var prefix in prefixes)
        {
            var layer = Layer(tensors, prefix);
            if (layer is null) continue;
            Prelude? before = stages.Count == 0
                ? (layer.Weight.Dim(1) == 1 ? Prelude.None : FashionStem(tensors, prefix))
                : (layer.Weight.Dim(1) != stages[^1].Item2.Weight.Dim(0) ? null
                    : FashionBetween(tensors, stages[^1].Item2.Name) ?? Prelude.Relu);
            if (before is null) continue;
            stages.Add((before, layer));
            if (stages.Count == 2) break;
        }
        if (stages.Count == 0)
            throw new InvalidDataException(
                $"{path}: found deformable layers {string.Join(", ", prefixes)}, but none reads a one-channel image directly " +
                "or through DeformedFashion's stem (conv1 → bn1 → ReLU → max pool), so this example cannot reproduce its input.");
        var model = SafeTensors.ReadMetadata(path).GetValueOrDefault("model");
        log.WriteLine($"weights: {path}{(model is null ? "" : $" ({model})")}: using " +
                      string.Join(" → ", stages.Select(s => s.Item1.Text.Length == 0 ? s.Item2.Name : $"{s.Item1.Text} → {s.Item2.Name}")) +
                      " (stride 1 and 'same' padding assumed for the DCN layers)");
        return new Network(stages, $"trained weights from {Path.GetFileName(path)}");
    }

    /// <summary>The square-kernel DCN layer P of the file, or null when its offset branch does not fit it.</summary>
    private static DcnLayer? Layer(IReadOnlyDictionary<string, Tensor<double>> tensors, string prefix)
    {
        var weight = tensors[prefix + ".weight"];
        if (weight.Rank != 4 || weight.Dim(2) != weight.Dim(3)) return null;
        var layer = new DcnLayer(prefix, weight, tensors.GetValueOrDefault(prefix + ".bias"),
            tensors[prefix + ".conv_offset.weight"], tensors.GetValueOrDefault(prefix + ".conv_offset.bias"), (weight.Dim(2) - 1) / 2, 1);
        return layer.OffsetWeight.Dim(0) == 2 * layer.KernelPoints || layer.Modulated ? layer : null;
    }

    /// <summary>DeformedFashion's stem before DCN layer "convN": conv(N−1) (one input channel, 'same'
    /// padding) → bn(N−1) → ReLU → 2×2 max pool; null when the file does not hold it.</summary>
    private static Prelude? FashionStem(IReadOnlyDictionary<string, Tensor<double>> tensors, string dcnName)
    {
        if (Previous(dcnName) is not { } index || !tensors.TryGetValue($"conv{index}.weight", out var weight) || weight.Rank != 4 ||
            weight.Dim(1) != 1 || weight.Dim(2) % 2 == 0 || weight.Dim(3) % 2 == 0 || BatchNorm(tensors, $"bn{index}") is not { } norm)
            return null;
        var bias = tensors.GetValueOrDefault($"conv{index}.bias");
        var kernel = (weight.Dim(2), weight.Dim(3));
        var padding = (weight.Dim(2) / 2, weight.Dim(3) / 2);
        return new Prelude($"conv{index} → bn{index} → ReLU → max pool 2x2",
            x => Functional.MaxPool2d(norm(Functional.Conv2d(x, weight, bias, padding: padding)).Relu(), (2, 2)),
            [new WindowStep(kernel, (1, 1), padding), WindowStep.MaxPool(2)]);
    }

    /// <summary>DeformedFashion's step after DCN layer "convN": bnN → ReLU → 2×2 max pool; null when
    /// the file has no bnN.</summary>
    private static Prelude? FashionBetween(IReadOnlyDictionary<string, Tensor<double>> tensors, string dcnName)
    {
        if (!dcnName.StartsWith("conv", StringComparison.Ordinal) || BatchNorm(tensors, "bn" + dcnName[4..]) is not { } norm) return null;
        return new Prelude($"bn{dcnName[4..]} → ReLU → max pool 2x2", x => Functional.MaxPool2d(norm(x).Relu(), (2, 2)),
            [WindowStep.MaxPool(2)]);
    }

    private static int? Previous(string dcnName) =>
        dcnName.StartsWith("conv", StringComparison.Ordinal) && int.TryParse(dcnName[4..], out int n) && n > 1 ? n - 1 : null;

    /// <summary>BatchNorm B in evaluation (running statistics, eps 1e-5), or null when the file lacks it.</summary>
    private static Func<Tensor<double>, Tensor<double>>? BatchNorm(IReadOnlyDictionary<string, Tensor<double>> tensors, string name)
    {
        if (!tensors.TryGetValue(name + ".running_mean", out var mean) || !tensors.TryGetValue(name + ".running_var", out var variance))
            return null;
        var weight = tensors.GetValueOrDefault(name + ".weight");
        var bias = tensors.GetValueOrDefault(name + ".bias");
        return x => Functional.BatchNorm2d(x, mean, variance, weight, bias);
    }
}
