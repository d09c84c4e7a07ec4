// Trains a 2-layer tanh network on a small synthetic regression task with DeformEngine's autograd
// and plain gradient descent, then checks the network's analytic gradients against central finite
// differences with GradCheck.
using System.Diagnostics;
using System.Globalization;
using DeformEngine;

const int Samples = 256;
const int Hidden = 16;
const int Epochs = 600;
const int PrintEvery = 50;
const double LearningRate = 0.2;
const int GradCheckSamples = 8;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var clock = Stopwatch.StartNew();

var (inputs, targets) = MakeDataset(seed: 1, Samples);

// Weights scaled by 1/√fan-in keep tanh out of saturation at the start.
var w1 = Parameter(Tensor<double>.Randn(2, 2, Hidden) * (1 / Math.Sqrt(2)));
var b1 = Parameter(Tensor<double>.Zeros(Hidden));
var w2 = Parameter(Tensor<double>.Randn(3, Hidden, 1) * (1 / Math.Sqrt(Hidden)));
var b2 = Parameter(Tensor<double>.Zeros(1));
Tensor<double>[] parameters = [w1, b1, w2, b2];

Console.WriteLine($"Fitting y = sin(πx₁)·x₂ on {Samples} points with a 2 → {Hidden} → 1 tanh network (full-batch SGD, lr {LearningRate}).");
Console.WriteLine();
Console.WriteLine("epoch   mean squared error");
for (int epoch = 0; epoch <= Epochs; epoch++)
{
    var loss = Loss(inputs, targets, w1, b1, w2, b2);
    if (epoch % PrintEvery == 0) Console.WriteLine($"{epoch,5}   {loss.Item():F6}");
    if (epoch == Epochs) break;
    loss.Backward();
    foreach (var parameter in parameters)
    {
        // Writing through AsSpan bypasses autograd, so the update is not recorded.
        var value = parameter.AsSpan();
        var gradient = parameter.Grad!.AsSpan();
        for (int i = 0; i < value.Length; i++) value[i] -= LearningRate * gradient[i];
        parameter.ZeroGrad();
    }
}

Console.WriteLine();
Console.WriteLine($"Gradient check of the trained network's loss on {GradCheckSamples} samples:");
var batchInputs = inputs.Slice(0, 0, GradCheckSamples);
var batchTargets = targets.Slice(0, 0, GradCheckSamples);
var check = GradCheck.Check(p => Loss(batchInputs, batchTargets, p[0], p[1], p[2], p[3]),
    parameters, names: ["w1", "b1", "w2", "b2"]);
Console.Write(check);
Console.WriteLine($"Done in {clock.Elapsed.TotalSeconds:F1} s.");
return check.Passed ? 0 : 1;

static Tensor<double> Parameter(Tensor<double> initial)
{
    initial.RequiresGrad = true;
    return initial;
}

static Tensor<double> Loss(Tensor<double> x, Tensor<double> y,
    Tensor<double> w1, Tensor<double> b1, Tensor<double> w2, Tensor<double> b2)
{
    var hidden = x.MatMul(w1).Add(b1).Tanh();
    var prediction = hidden.MatMul(w2).Add(b2);
    return prediction.Sub(y).Pow(2).Mean();
}

static (Tensor<double> Inputs, Tensor<double> Targets) MakeDataset(long seed, int samples)
{
    // Inputs uniform in [−1, 1)².
    var inputs = Tensor<double>.Rand(seed, samples, 2) * 2.0 - 1.0;
    var x = inputs.ToArray();
    var y = new double[samples];
    for (int i = 0; i < samples; i++) y[i] = Math.Sin(Math.PI * x[2 * i]) * x[2 * i + 1];
    return (inputs, Tensor<double>.FromArray(y, samples, 1));
}
