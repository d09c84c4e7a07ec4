using DeformEngine;
using DeformEngine.Explain;

namespace GradientFlow;

/// <summary>The printed tables.</summary>
internal static class Report
{
    private const string Rule = "------------------------------------------------------------------------------------------------------";

    public static void CornerTable(DcnLayer layer, DeformConvExplanation e, SamplingPointExplanation p,
        Tensor<double> engineGradOffset, Tensor<double>? engineGradMask, FiniteDifferenceGradient fd)
    {
        var u = e.Unit;
        int k = p.OffsetGroup * e.Geometry.KernelPoints + p.KernelRow * e.Geometry.Conv.KernelW + p.KernelColumn;
        bool single = p.Channels.Length == 1;
        Console.WriteLine($"Layer {layer.Name}, output unit {u}: out = {e.Output:F6}");
        Console.WriteLine($"Sampling point (i={p.KernelRow}, j={p.KernelColumn}): Δp = ({p.Dy:F4}, {p.Dx:F4}), p = ({p.Y:F4}, {p.X:F4}), " +
                          $"ly = {p.Ly:F4}, lx = {p.Lx:F4}, mask m = {p.Mask:F4}" +
                          (single ? $", weight w = {p.Weights[0]:F4}" : $", channels {p.Channels.Length}"));
        Console.WriteLine(Rule);
        Console.WriteLine($"{"corner",-7}{"(row, col)",-12}{(single ? "v_q" : "Σ_c w·v_q"),10}{(single ? "w·v_q" : ""),10}" +
                          $"{"g_q",10}{"∂g_q/∂py",11}{"∂g_q/∂px",11}{"m·∂g_q/∂py·w·v_q",20}{"m·∂g_q/∂px·w·v_q",20}");
        foreach (var c in p.Corners)
            Console.WriteLine($"{c.Corner.ToString().ToLowerInvariant(),-7}{$"({c.Row}, {c.Column}){(c.InImage ? "" : "*")}",-12}" +
                              $"{(single ? c.Values[0] : c.WeightedValue),10:F6}{(single ? c.WeightedValue.ToString("F6") : ""),10}" +
                              $"{c.Coefficient,10:F6}{c.CoefficientDy,11:F6}{c.CoefficientDx,11:F6}" +
                              $"{c.ContributionDy,20:F10}{c.ContributionDx,20:F10}");
        Console.WriteLine(Rule);
        Line("sum of the four corner terms = ∂out/∂Δ", p.GradDy, p.GradDx);
        Line("engine backward (one-hot gradOutput)", engineGradOffset[u.N, 2 * k, u.Y, u.X], engineGradOffset[u.N, 2 * k + 1, u.Y, u.X]);
        Line("central difference of out (eps 1e-6)", fd.Dy, fd.Dx);
        Console.WriteLine("floor() and the gather contribute 0: they are piecewise constant in p.");
        if (p.Corners.Any(c => !c.InImage)) Console.WriteLine("* corner outside the image: reads 0.");
        if (p.GradMask is { } gradMask)
            Console.WriteLine($"mask (DCNv2): ∂out/∂m = Σ_q g_q·w·v_q = {gradMask:F10}; engine {engineGradMask![u.N, k, u.Y, u.X]:F10}; " +
                              $"central difference {fd.Mask:F10}. m scales every corner term above.");
        Console.WriteLine();
    }

    public static void AllPoints(DeformConvExplanation e, EngineAgreement agreement, IReadOnlyList<FiniteDifferenceGradient> fd)
    {
        Console.WriteLine($"All {e.Points.Count} sampling points of unit {e.Unit}: corner sums vs central differences");
        Console.WriteLine(Rule);
        Console.WriteLine($"{"(i,j)",-7}{"p_y",9}{"p_x",9}{"m",8}{"∂out/∂Δy",16}{"finite diff",16}{"∂out/∂Δx",16}{"finite diff",16}");
        double worstFd = 0;
        for (int n = 0; n < e.Points.Count; n++)
        {
            var p = e.Points[n];
            var f = fd[n];
            worstFd = Math.Max(worstFd, Math.Max(Math.Abs(p.GradDy - f.Dy), Math.Abs(p.GradDx - f.Dx)));
            Console.WriteLine($"{$"({p.KernelRow},{p.KernelColumn})",-7}{p.Y,9:F3}{p.X,9:F3}{p.Mask,8:F3}" +
                              $"{p.GradDy,16:F10}{f.Dy,16:F10}{p.GradDx,16:F10}{f.Dx,16:F10}");
        }
        Console.WriteLine(Rule);
        Console.WriteLine($"max |corner sums − engine backward| over the whole offset tensor: {agreement.OffsetError:0.0E+00}" +
                          (agreement.MaskError is { } m ? $" (mask: {m:0.0E+00}, output: {agreement.OutputError:0.0E+00})" : ""));
        Console.WriteLine($"max |corner sums − central differences| for this unit: {worstFd:0.0E+00}");
        Console.WriteLine();
    }

    public static void Ablation(AblationResult<double> a)
    {
        Console.WriteLine("Index-path ablation: the same computation with the coefficients computed from a detached position,");
        Console.WriteLine("so that the offsets reach the output only through floor() and the gather (\"used only as indices\").");
        Console.WriteLine($"out{a.Unit}: real graph {a.RealOutput:F10}, index-only graph {a.IndexOnlyOutput:F10} (same forward)");
        Console.WriteLine(Rule);
        Console.WriteLine($"{"(i,j)",-7}{"real ∂out/∂Δy",18}{"real ∂out/∂Δx",18}{"index-only ∂/∂Δy",20}{"index-only ∂/∂Δx",20}");
        foreach (var r in a.Rows)
            Console.WriteLine($"{$"({r.KernelRow},{r.KernelColumn})",-7}{r.RealDy,18:F10}{r.RealDx,18:F10}{r.IndexOnlyDy,20:G6}{r.IndexOnlyDx,20:G6}");
        Console.WriteLine(Rule);
        double real = a.RealGradOffset.ToArray().Max(Math.Abs), ablated = a.IndexOnlyGradOffset.ToArray().Max(Math.Abs);
        Console.WriteLine($"max |∂out/∂offset| over the whole offset tensor: real {real:F10}, index-only {ablated:G6}" +
                          (ablated == 0 ? " (exactly zero)" : ""));
    }

    private static void Line(string label, double dy, double dx) =>
        Console.WriteLine($"{label,-81}{dy,20:F10}{dx,20:F10}");
}
