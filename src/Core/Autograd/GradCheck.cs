using System.Globalization;
using System.Text;

namespace DeformEngine;

/// <summary>Tolerances of <see cref="GradCheck"/>; the defaults are those of torch.autograd.gradcheck.</summary>
public sealed record GradCheckOptions
{
    /// <summary>Step of the central difference.</summary>
    public double Eps { get; init; } = 1e-6;
    /// <summary>Absolute tolerance: an element passes when |analytic − numeric| ≤ Atol + Rtol·|numeric|.</summary>
    public double Atol { get; init; } = 1e-5;
    /// <summary>Relative tolerance, scaled by |numeric| in the same test as <see cref="Atol"/>.</summary>
    public double Rtol { get; init; } = 1e-3;
    /// <summary>Seed of the random weights that project the output onto a scalar.</summary>
    public long Seed { get; init; } = 12345;
}

/// <summary>How one input's analytic gradient compares with central differences.</summary>
public sealed record GradCheckInputReport(
    string Name, int[] Shape, double MaxAbsError, double MaxRelError, int WorstIndex,
    double AnalyticAtWorst, double NumericAtWorst, bool Passed);

/// <summary>The outcome of <see cref="GradCheck.Check"/>: one report per input and the tolerances used.</summary>
/// <param name="inputs">One report per checked input, in argument order.</param>
/// <param name="options">The step and tolerances the check used.</param>
public sealed class GradCheckResult(IReadOnlyList<GradCheckInputReport> inputs, GradCheckOptions options)
{
    /// <summary>One report per checked input, in argument order.</summary>
    public IReadOnlyList<GradCheckInputReport> Inputs { get; } = inputs;
    /// <summary>The step and tolerances the check used.</summary>
    public GradCheckOptions Options { get; } = options;
    /// <summary>True when every input's gradient is within tolerance.</summary>
    public bool Passed => Inputs.All(r => r.Passed);

    /// <summary>A table: one row per input with its shape, largest absolute and relative errors, the worst element and
    /// its two values.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture,
            $"GradCheck (eps {Options.Eps:G2}, atol {Options.Atol:G2}, rtol {Options.Rtol:G2}): {(Passed ? "PASSED" : "FAILED")}");
        sb.AppendLine(string.Format(CultureInfo.InvariantCulture, "{0,-12} {1,-16} {2,12} {3,12} {4,8} {5,14} {6,14} {7,4}",
            "input", "shape", "max |abs err|", "max rel err", "worst", "analytic", "numeric", "ok"));
        foreach (var r in Inputs)
            sb.AppendLine(string.Format(CultureInfo.InvariantCulture, "{0,-12} {1,-16} {2,12:0.00E+00} {3,12:0.00E+00} {4,8} {5,14:G6} {6,14:G6} {7,4}",
                r.Name, ShapeMath.Format(r.Shape), r.MaxAbsError, r.MaxRelError, r.WorstIndex, r.AnalyticAtWorst, r.NumericAtWorst, r.Passed ? "yes" : "NO"));
        return sb.ToString();
    }
}

/// <summary>Compares analytic gradients with central finite differences in double precision.
/// The output is projected on fixed random weights w, so one backward gives w·J for every input
/// and each input element needs two forward evaluations.</summary>
public static class GradCheck
{
    /// <summary>Compares ∂(w·f(x))/∂x from one backward with central differences (f(x + eps) − f(x − eps)) / 2eps for
    /// every element of every input.</summary>
    /// <param name="function">The function under test; it receives clones of <paramref name="inputs"/> that require
    /// gradients.</param>
    /// <param name="inputs">The point at which to check; left unchanged.</param>
    /// <param name="options">Step and tolerances; null for the defaults of torch.autograd.gradcheck.</param>
    /// <param name="names">A name per input for the report; null for input0, input1, ….</param>
    /// <exception cref="ArgumentException"><paramref name="names"/> has the wrong length, or the output does not depend
    /// on any input.</exception>
    public static GradCheckResult Check(Func<Tensor<double>[], Tensor<double>> function, Tensor<double>[] inputs,
        GradCheckOptions? options = null, string[]? names = null)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(inputs);
        options ??= new GradCheckOptions();
        if (names is not null && names.Length != inputs.Length)
            throw new ArgumentException($"names: expected {inputs.Length} names, got {names.Length}.", nameof(names));

        var leaves = inputs.Select(x => { var c = x.Clone(); c.RequiresGrad = true; return c; }).ToArray();
        var output = function(leaves);
        var weights = Tensor<double>.Randn(options.Seed, output.ShapeArray);
        if (!output.RequiresGrad)
            throw new ArgumentException("function: its output does not depend on any input through recorded operations.", nameof(function));
        output.Backward(weights);

        var reports = new List<GradCheckInputReport>();
        for (int i = 0; i < leaves.Length; i++)
        {
            var analytic = leaves[i].Grad?.CpuData ?? new double[leaves[i].Numel];
            var numeric = NumericGradient(function, leaves, i, weights.CpuData, options.Eps);
            reports.Add(Compare(names?[i] ?? $"input{i}", leaves[i].ShapeArray, analytic, numeric, options));
        }
        return new GradCheckResult(reports, options);
    }

    private static double[] NumericGradient(Func<Tensor<double>[], Tensor<double>> function, Tensor<double>[] leaves,
        int which, double[] weights, double eps)
    {
        var leaf = leaves[which];
        var values = leaf.CpuData;
        var result = new double[values.Length];
        using var _ = Autograd.NoGrad();
        // NOTE: each perturbation is a write: kernels that keep data derived from an input (the fast
        // DeformConv2d's re-laid-out weight) must see a new version, or they would reuse the old one.
        for (int e = 0; e < values.Length; e++)
        {
            double saved = values[e];
            values[e] = saved + eps;
            leaf.MarkWritten();
            double plus = Project(function(leaves), weights);
            values[e] = saved - eps;
            leaf.MarkWritten();
            double minus = Project(function(leaves), weights);
            values[e] = saved;
            leaf.MarkWritten();
            result[e] = (plus - minus) / (2 * eps);
        }
        return result;
    }

    private static double Project(Tensor<double> output, double[] weights)
    {
        var data = output.CpuData;
        double sum = 0;
        for (int i = 0; i < data.Length; i++) sum += data[i] * weights[i];
        return sum;
    }

    private static GradCheckInputReport Compare(string name, int[] shape, double[] analytic, double[] numeric, GradCheckOptions options)
    {
        double maxAbs = 0, maxRel = 0;
        int worst = analytic.Length > 0 ? 0 : -1;
        bool passed = true;
        for (int e = 0; e < analytic.Length; e++)
        {
            double abs = Math.Abs(analytic[e] - numeric[e]);
            double scale = Math.Max(Math.Abs(analytic[e]), Math.Abs(numeric[e]));
            double rel = scale > 0 ? abs / scale : 0;
            if (!(abs <= options.Atol + options.Rtol * Math.Abs(numeric[e]))) passed = false;
            if (abs > maxAbs || double.IsNaN(abs))
            {
                maxAbs = abs;
                worst = e;
            }
            maxRel = Math.Max(maxRel, rel);
        }
        return new GradCheckInputReport(name, shape, maxAbs, maxRel, worst,
            worst >= 0 ? analytic[worst] : 0, worst >= 0 ? numeric[worst] : 0, passed);
    }

    /// <summary>Moves every value at least <paramref name="margin"/> away from the nearest integer.
    /// Bilinear interpolation has kinks at integer coordinates, where the derivative is one-sided
    /// and central differences disagree with either side; offsets added to an integer sampling grid
    /// keep the same fractional part, so nudging them suffices.</summary>
    public static Tensor<double> KeepOffIntegers(Tensor<double> values, double margin = 0.05)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (!(margin > 0 && margin < 0.5))
            throw new ArgumentOutOfRangeException(nameof(margin), margin, "margin must be in (0, 0.5).");
        var data = values.ToArray();
        for (int i = 0; i < data.Length; i++)
        {
            double frac = data[i] - Math.Floor(data[i]);
            if (frac < margin) data[i] += margin - frac;
            else if (frac > 1 - margin) data[i] -= frac - (1 - margin);
        }
        return Tensor<double>.FromArray(data, values.ShapeArray);
    }
}
