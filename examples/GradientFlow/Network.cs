using DeformEngine;
using DeformEngine.Explain;

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

/// <summary>Two stacked DCN layers with a ReLU between them: image → DCN 1 → ReLU → DCN 2.</summary>
internal sealed record Network(IReadOnlyList<DcnLayer> Layers, string Origin)
{
    /// <summary>The output of every layer and the deformable call each made (offsets and masks
    /// detached: what the explainer and the plots read).</summary>
    public List<(Tensor<double> Output, DeformConvCall<double> Call)> Run(Tensor<double> image)
    {
        var result = new List<(Tensor<double>, DeformConvCall<double>)>();
        using var _ = Autograd.NoGrad();
        var x = image;
        for (int l = 0; l < Layers.Count; l++)
        {
            var (output, call) = Layers[l].Forward(x);
            result.Add((output, call));
            x = l + 1 < Layers.Count ? output.Relu() : output;
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
        for (int l = 0; l < Layers.Count; l++)
        {
            var output = regular ? Layers[l].ForwardRegular(x) : Layers[l].Forward(x).Output;
            x = l + 1 < Layers.Count ? output.Relu() : output;
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

    public static Network Random(long seed) => new(
    [
        DcnLayer.Random("dcn1", seed, 1, 4, dilation: 1, offsetScale: 1.2),
        DcnLayer.Random("dcn2", seed + 10, 4, 4, dilation: 2, offsetScale: 3.0),
    ], $"random weights (seed {seed})");

    /// <summary>The DCN layers of a weights file (mmcv naming: P.weight, P.bias, P.conv_offset.weight,
    /// P.conv_offset.bias). The first layer must read a one-channel image; a following layer is
    /// stacked on it (with a ReLU between) when its input channels match. Stride 1 and 'same'
    /// padding are assumed, as the file does not record them.</summary>
    public static Network FromWeights(string path, TextWriter log)
    {
        var entries = SafeTensorsReader.Read(path);
        var tensors = entries.ToDictionary(e => e.Name, e => e.Tensor);
        var order = entries.Select(e => e.Name).ToList();
        const string suffix = ".conv_offset.weight";
        var prefixes = order.Where(n => n.EndsWith(suffix, StringComparison.Ordinal)).Select(n => n[..^suffix.Length])
            .Where(p => tensors.ContainsKey(p + ".weight")).ToList();
        if (prefixes.Count == 0)
            throw new InvalidDataException(
                $"{path}: no deformable layer found (expected tensors named P.weight and P.conv_offset.weight, mmcv's naming); " +
                $"the file has {string.Join(", ", order.Take(8))}{(order.Count > 8 ? ", …" : "")}.");
        var layers = new List<DcnLayer>();
        foreach (var prefix in prefixes)
        {
            var weight = tensors[prefix + ".weight"];
            int wantInput = layers.Count == 0 ? 1 : layers[^1].Weight.Dim(0);
            if (weight.Dim(1) != wantInput || weight.Dim(2) != weight.Dim(3)) continue;
            var layer = new DcnLayer(prefix, weight, tensors.GetValueOrDefault(prefix + ".bias"),
                tensors[prefix + suffix], tensors.GetValueOrDefault(prefix + ".conv_offset.bias"), (weight.Dim(2) - 1) / 2, 1);
            if (layer.OffsetWeight.Dim(0) != 2 * layer.KernelPoints && !layer.Modulated) continue;
            layers.Add(layer);
            if (layers.Count == 2) break;
        }
        if (layers.Count == 0)
            throw new InvalidDataException(
                $"{path}: found deformable layers {string.Join(", ", prefixes)}, but none reads a one-channel image directly, " +
                "so this example cannot reproduce its input; it shows only layers applied to the image.");
        log.WriteLine($"weights: {path}: using {string.Join(" → ReLU → ", layers.Select(l => l.Name))} " +
                      "(stride 1 and 'same' padding assumed)");
        return new Network(layers, $"trained weights from {Path.GetFileName(path)}");
    }
}
