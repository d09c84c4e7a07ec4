// Runs a modulated deformable convolution (DCNv2) forward and backward through the DeformEngine packages and
// checks it: the forward against the plain convolution it must equal when every offset is 0 and every mask 1,
// every gradient element against central differences, and the same call on ILGPU's CPU accelerator (the
// DeformEngine.Gpu package and its ILGPU dependencies) against the CPU. Exits 1 on any failure.
using DeformEngine;
using DeformEngine.Gpu;

const int Batch = 2, Channels = 4, Height = 6, Width = 6, OutChannels = 3, Kernel = 3, OffsetGroups = 2;
// Rounding only: every quantity is O(1) and computed in double (central differences with step 1e-6 are exact
// for the input, weight, bias and mask, which enter linearly, and good to ~1e-9 for offsets away from integers).
const double GradientTolerance = 1e-6;
// The forward is the same sum in a different order on each path: agreement to ~1e-15 relative is expected.
const double SamePathTolerance = 1e-11;
const double Step = 1e-6;

var random = new SeededRandom(2026);
int points = Kernel * Kernel, outH = Height, outW = Width;
var input = Values(Batch * Channels * Height * Width, () => random.NextDouble() * 2 - 1);
// Offsets with fractional parts in [0.2, 0.8]: the bilinear sample is smooth there (its kinks are at integers).
var offset = Values(Batch * 2 * OffsetGroups * points * outH * outW,
    () => (random.NextInt(5) - 2) + 0.2 + 0.6 * random.NextDouble());
var weight = Values(OutChannels * Channels * points, () => random.NextDouble() - 0.5);
var bias = Values(OutChannels, () => random.NextDouble() - 0.5);
var mask = Values(Batch * OffsetGroups * points * outH * outW, () => 0.2 + 0.7 * random.NextDouble());
var projection = Values(Batch * OutChannels * outH * outW, () => random.NextDouble() * 2 - 1);

int[] inputShape = [Batch, Channels, Height, Width], offsetShape = [Batch, 2 * OffsetGroups * points, outH, outW];
int[] weightShape = [OutChannels, Channels, Kernel, Kernel], maskShape = [Batch, OffsetGroups * points, outH, outW];
int[] outputShape = [Batch, OutChannels, outH, outW];
bool passed = true;

// 1. Zero offsets and unit masks: exactly a convolution.
{
    var x = Tensor<double>.FromArray(input, inputShape);
    var w = Tensor<double>.FromArray(weight, weightShape);
    var b = Tensor<double>.FromArray(bias, OutChannels);
    var deformable = Functional.DeformConv2d(x, Tensor<double>.Zeros(offsetShape), w, b, padding: (1, 1),
        mask: Tensor<double>.Ones(maskShape));
    var plain = Functional.Conv2d(x, w, b, padding: (1, 1));
    Report("forward, offsets 0 and masks 1, vs Conv2d", MaxRelativeError(deformable.ToArray(), plain.ToArray()), SamePathTolerance);
}

// 2. The gradients of L = Σ out ⊙ R against central differences, every element of every argument.
var leaves = Leaves(Device.Cpu);
var cpuOutput = Forward(leaves);
Tensor<double>.FromArray(projection, outputShape).Mul(cpuOutput).Sum().Backward();
string[] names = ["input", "offset", "weight", "bias", "mask"];
double[][] arguments = [input, offset, weight, bias, mask];
for (int a = 0; a < arguments.Length; a++)
{
    var analytic = leaves[a].Grad!.ToArray();
    var numeric = new double[arguments[a].Length];
    for (int i = 0; i < numeric.Length; i++)
    {
        double saved = arguments[a][i];
        arguments[a][i] = saved + Step;
        double up = Loss();
        arguments[a][i] = saved - Step;
        double down = Loss();
        arguments[a][i] = saved;
        numeric[i] = (up - down) / (2 * Step);
    }
    Report($"∂L/∂{names[a]} ({numeric.Length} elements) vs central differences", MaxRelativeError(analytic, numeric), GradientTolerance);
}

// 3. The same call on ILGPU's CPU accelerator through DeformEngine.Gpu.
using (var device = CpuAcceleratorDevice.Open())
{
    var deviceLeaves = Leaves(device);
    var deviceOutput = Forward(deviceLeaves);
    Tensor<double>.FromArray(projection, outputShape).To(device).Mul(deviceOutput).Sum().Backward();
    Report($"forward on {device.Name} vs CPU", MaxRelativeError(deviceOutput.ToArray(), cpuOutput.ToArray()), SamePathTolerance);
    for (int a = 0; a < arguments.Length; a++)
        Report($"∂L/∂{names[a]} on the CPU accelerator vs CPU",
            MaxRelativeError(deviceLeaves[a].Grad!.ToArray(), leaves[a].Grad!.ToArray()), SamePathTolerance);
}

Console.WriteLine(passed ? "PackageConsumer: PASSED" : "PackageConsumer: FAILED");
return passed ? 0 : 1;

Tensor<double>[] Leaves(Device device)
{
    var tensors = new[]
    {
        Tensor<double>.FromArray(input, inputShape), Tensor<double>.FromArray(offset, offsetShape),
        Tensor<double>.FromArray(weight, weightShape), Tensor<double>.FromArray(bias, OutChannels),
        Tensor<double>.FromArray(mask, maskShape),
    };
    for (int i = 0; i < tensors.Length; i++)
    {
        tensors[i] = tensors[i].To(device);
        tensors[i].RequiresGrad = true;
    }
    return tensors;
}

Tensor<double> Forward(Tensor<double>[] t) =>
    Functional.DeformConv2d(t[0], t[1], t[2], t[3], padding: (1, 1), mask: t[4]);

double Loss()
{
    using var _ = Autograd.NoGrad();
    var output = Forward([
        Tensor<double>.FromArray(input, inputShape), Tensor<double>.FromArray(offset, offsetShape),
        Tensor<double>.FromArray(weight, weightShape), Tensor<double>.FromArray(bias, OutChannels),
        Tensor<double>.FromArray(mask, maskShape)]).ToArray();
    double sum = 0;
    for (int i = 0; i < output.Length; i++) sum += output[i] * projection[i];
    return sum;
}

void Report(string what, double error, double tolerance)
{
    bool ok = error <= tolerance;
    passed &= ok;
    Console.WriteLine($"{(ok ? "ok  " : "FAIL")} {what}: max error {error:0.0e+00} (tolerance {tolerance:0e+00})");
}

// max |a − b| / max(1, max |b|): relative to the scale of the reference, absolute below 1.
static double MaxRelativeError(double[] actual, double[] expected)
{
    if (actual.Length != expected.Length) return double.PositiveInfinity;
    double scale = 1, worst = 0;
    foreach (var value in expected) scale = Math.Max(scale, Math.Abs(value));
    for (int i = 0; i < actual.Length; i++)
    {
        double difference = Math.Abs(actual[i] - expected[i]);
        if (double.IsNaN(difference)) return double.PositiveInfinity;
        worst = Math.Max(worst, difference);
    }
    return worst / scale;
}

static double[] Values(int count, Func<double> next)
{
    var values = new double[count];
    for (int i = 0; i < count; i++) values[i] = next();
    return values;
}
