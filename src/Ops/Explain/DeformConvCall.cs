namespace DeformEngine.Explain;

/// <summary>One output unit of a convolution: image <see cref="N"/>, output channel <see cref="O"/>,
/// row <see cref="Y"/>, column <see cref="X"/>.</summary>
public readonly record struct OutputUnit(int N, int O, int Y, int X)
{
    /// <summary>"(n=…, o=…, y=…, x=…)", for tables.</summary>
    public override string ToString() => $"(n={N}, o={O}, y={Y}, x={X})";
}

/// <summary>The arguments of one <see cref="Functional.DeformConv2d{T}"/> call, kept together so
/// that the explainer, the engine and the finite differences all see the same call.</summary>
public sealed record DeformConvCall<T>(
    Tensor<T> Input, Tensor<T> Offset, Tensor<T> Weight, Tensor<T>? Bias = null,
    (int H, int W)? Stride = null, (int H, int W)? Padding = null, (int H, int W)? Dilation = null,
    Tensor<T>? Mask = null)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Checks the arguments exactly as the engine does and returns the geometry.</summary>
    public DeformConv2dParams Params() =>
        DeformConv2dParams.Create(Input, Offset, Weight, Bias, Stride, Padding, Dilation, Mask);

    /// <summary>The engine's forward.</summary>
    public Tensor<T> Run() => Functional.DeformConv2d(Input, Offset, Weight, Bias, Stride, Padding, Dilation, Mask);

    /// <summary>The same call with every tensor replaced (for instance by leaves that require a gradient).</summary>
    public DeformConvCall<T> With(Tensor<T> input, Tensor<T> offset, Tensor<T> weight, Tensor<T>? bias, Tensor<T>? mask) =>
        this with { Input = input, Offset = offset, Weight = weight, Bias = bias, Mask = mask };

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless <paramref name="unit"/> is an
    /// element of this call's output.</summary>
    public void RequireUnit(OutputUnit unit, string argumentName = "unit")
    {
        var cp = Params().Conv;
        if ((uint)unit.N >= (uint)cp.Batch || (uint)unit.O >= (uint)cp.OutChannels ||
            (uint)unit.Y >= (uint)cp.OutH || (uint)unit.X >= (uint)cp.OutW)
            throw new ArgumentOutOfRangeException(argumentName, unit,
                $"{argumentName}: expected an output unit inside [{cp.Batch}, {cp.OutChannels}, {cp.OutH}, {cp.OutW}], got {unit}.");
    }

    /// <summary>A gradient for the output that is 1 at <paramref name="unit"/> and 0 elsewhere, so
    /// that the backward gives ∂out[unit]/∂(every input).</summary>
    public Tensor<T> OneHot(OutputUnit unit)
    {
        RequireUnit(unit);
        var cp = Params().Conv;
        var grad = Tensor<T>.Zeros(cp.Batch, cp.OutChannels, cp.OutH, cp.OutW);
        grad[unit.N, unit.O, unit.Y, unit.X] = T.One;
        return grad;
    }
}
