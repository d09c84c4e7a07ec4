using System.Globalization;
using System.Text;
using DeformEngine;
using DeformEngine.Explain;
using DeformEngine.Plotting;
using GradientFlow;

// How the offsets of a deformable convolution get their gradient, made visible and checked:
// per-corner terms of ∂out/∂Δp for one sampling point, the engine's backward and central
// differences beside them, the index-only ablation, and pictures of where the layers sample.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
Console.OutputEncoding = Encoding.UTF8;

Options options;
try
{
    options = Options.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(Options.Usage);
    return 2;
}
if (options.Help)
{
    Console.WriteLine(Options.Usage);
    return 0;
}

Tensor<double> image;
string imageName;
try
{
    (image, imageName) = LoadImage(options);
}
catch (ArgumentOutOfRangeException e)
{
    Console.Error.WriteLine($"--index: {e.Message}");
    return 2;
}
catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"{Images.FashionMnistPath}: {e.Message}");
    return 1;
}
if (options.Attention) return AttentionReport.Run(image, imageName, options.Query, options.Seed);
Network network;
try
{
    network = options.Weights is null ? Network.Random(options.Seed) : Network.FromWeights(options.Weights, Console.Out);
}
catch (Exception e) when (e is IOException or InvalidDataException or System.Text.Json.JsonException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"--weights: {e.Message}");
    return 1;
}
Console.WriteLine($"input: {imageName}, 28×28; network: " +
                  string.Join(" → ", network.Stages.Select(s => s.Before.Text.Length == 0 ? Describe(s.Layer) : $"{s.Before.Text} → {Describe(s.Layer)}")) +
                  $", {network.Origin}");
Console.WriteLine();

var runs = network.Run(image);
var firstCall = runs[0].Call;
var unit = options.Unit is { } chosen ? new OutputUnit(0, 0, chosen.Y, chosen.X) : StrongestUnit(firstCall);
var explanation = DeformConvExplainer.Explain(firstCall, unit);
var point = explanation.Points.Where(p => p.Inside).MaxBy(p => Math.Abs(p.GradDy) + Math.Abs(p.GradDx)) ?? explanation.Points[0];
var agreement = DeformConvExplainer.CompareWithEngine(firstCall, explanation);
var (_, engineGradOffset, engineGradMask) = DeformConvExplainer.EngineGradients(firstCall, unit);
var finiteDifferences = DeformConvExplainer.FiniteDifferences(firstCall, unit);

Report.CornerTable(network.Layers[0], explanation, point, engineGradOffset, engineGradMask,
    finiteDifferences.Single(f => f.KernelRow == point.KernelRow && f.KernelColumn == point.KernelColumn && f.OffsetGroup == point.OffsetGroup));
Report.AllPoints(explanation, agreement, finiteDifferences);
Report.Ablation(IndexPathAblation.Run(firstCall, unit));

Directory.CreateDirectory(options.Out);
var gray = GrayImage.From(image);
var stack = network.SamplingStack(image, runs);
// The plot units are picked in image coordinates (for the synthetic picture: on the ellipse, on the
// square, on the background): each becomes the top layer's unit centred nearest to it.
var plotUnits = (imageName.StartsWith("synthetic", StringComparison.Ordinal)
        ? new List<(int Y, int X)> { (11, 10), (21, 21), (4, 23) }
        : [(14, 14), (8, 14), (2, 2)])
    .Select(p => SamplingTrace.UnitNearest(stack, p.Y, p.X)).Distinct().ToList();
var written = new List<string>();
void Save(Figure figure, string name)
{
    string path = Path.Combine(options.Out, name);
    figure.SavePng(path);
    written.Add(path);
}
// The legend numbers the drawn layers from the bottom; the title says which layer is which.
string stackText = string.Join(" + ", network.Layers.Select((l, n) => $"{l.Name} (layer {n + 1}: {Kernel(l)}, dilation {l.Dilation})")) +
                   (network.Stages.Any(s => s.Before.Steps.Count > 0) ? " with the max pools" : "");
Save(Plots.SamplingLocations(gray, stack, plotUnits, $"Sampling locations of {stackText}, {network.Origin}"), "sampling-locations.png");
foreach (var (layer, name) in stack.Where(l => l.DrawsSamples).Zip(network.Layers.Select(l => l.Name)))
{
    // A layer behind pooling reads a coarser grid: it is drawn over the image average-pooled to that
    // grid, enlarged so that the panels keep the image's size.
    int factor = image.Dim(2) / layer.Geometry.Conv.Height;
    var background = factor > 1 ? GrayImage.From(Functional.AvgPool2d(image, (factor, factor))) : gray;
    string over = factor > 1
        ? $" (over its {layer.Geometry.Conv.Height}x{layer.Geometry.Conv.Width} input grid; the image average-pooled {factor}x{factor})"
        : name == network.Layers[0].Name ? "" : " (over the image: same grid)";
    Save(Plots.OffsetField(background, layer, $"Offsets of {name} per kernel point: regular grid point -> deformed sample{over}",
        step: factor switch { 1 => 3, 2 => 2, _ => 1 }, scale: 6 * factor), $"offset-field-{name}.png");
}
var erfUnit = new OutputUnit(0, 0, plotUnits[0].Y, plotUnits[0].X);
var erfCenter = SamplingTrace.ToImage(stack, stack.Count, erfUnit.Y, erfUnit.X);
Save(Plots.ReceptiveField(gray.Height, gray.Width,
    [
        ("regular conv (offsets 0)", network.ReceptiveField(image, erfUnit, regular: true)),
        ("deformable", network.ReceptiveField(image, erfUnit, regular: false)),
    ],
    erfCenter, $"Effective receptive field |d out{erfUnit} / d input| of {network.Layers[^1].Name}"),
    "effective-receptive-field.png");

Console.WriteLine();
Console.WriteLine("pictures:");
foreach (var path in written) Console.WriteLine($"  {path}");
return agreement.MaxError <= 1e-9 ? 0 : 1;

static string Describe(DcnLayer layer) =>
    $"{layer.Name} (DCN{(layer.Modulated ? "v2" : "v1")} {layer.Weight.Dim(1)}→{layer.Weight.Dim(0)}, {Kernel(layer)}, dilation {layer.Dilation})";

static string Kernel(DcnLayer layer) => $"{layer.Weight.Dim(2)}x{layer.Weight.Dim(3)}";

static (Tensor<double> Image, string Name) LoadImage(Options options)
{
    if (options.ImageOrDefault == "fashion-mnist")
    {
        var fashion = Images.FashionMnist(options.Index);
        if (fashion is not null) return (fashion, $"Fashion-MNIST test image {options.Index}");
        Console.WriteLine($"note: no Fashion-MNIST here ({Images.FashionMnistPath} not found; Debian's package " +
                          "dataset-fashion-mnist installs it): explaining the synthetic ellipse and square instead.");
    }
    return (Images.Synthetic(), "synthetic ellipse and square");
}

// The unit of output channel 0 whose strongest sampling point has the largest offset gradient;
// points within 0.01 of an integer coordinate are passed over (central differences need room).
static OutputUnit StrongestUnit(DeformConvCall<double> call)
{
    var cp = call.Params().Conv;
    OutputUnit best = new(0, 0, cp.OutH / 2, cp.OutW / 2);
    double bestNorm = -1;
    for (int y = 0; y < cp.OutH; y++)
        for (int x = 0; x < cp.OutW; x++)
        {
            var e = DeformConvExplainer.Explain(call, new OutputUnit(0, 0, y, x));
            if (e.Points.Any(p => p.Inside && (Near(p.Ly) || Near(p.Lx)))) continue;
            double norm = e.Points.Max(p => Math.Abs(p.GradDy) + Math.Abs(p.GradDx));
            if (norm > bestNorm) (best, bestNorm) = (e.Unit, norm);
        }
    return best;
    static bool Near(double fraction) => fraction < 0.01 || fraction > 0.99;
}
