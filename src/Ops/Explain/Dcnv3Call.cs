namespace DeformEngine.Explain;

/// <summary>The arguments of one <see cref="Functional.Dcnv3{T}"/> call, kept together so that the explainer, the
/// engine and the finite differences all see the same call. A unit of its output [N, OutH, OutW, C] is an
/// <see cref="OutputUnit"/> whose <see cref="OutputUnit.O"/> is the channel (the last index).</summary>
public sealed record Dcnv3Call<T>(
    Tensor<T> Input, Tensor<T> Offset, Tensor<T> Mask, (int H, int W) Kernel, (int H, int W)? Stride = null,
    (int H, int W)? Padding = null, (int H, int W)? Dilation = null, int Group = 1, int? GroupChannels = null,
    double OffsetScale = 1.0, bool RemoveCenter = false)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The engine's forward.</summary>
    public Tensor<T> Run() => Functional.Dcnv3(Input, Offset, Mask, Kernel, Stride, Padding, Dilation, Group, GroupChannels, OffsetScale, RemoveCenter);

    /// <summary>Checks the arguments exactly as the engine does and returns the geometry.</summary>
    public Dcnv3Params Params() =>
        Dcnv3Params.Create(Input, Offset, Mask, Kernel, Stride, Padding, Dilation, Group, GroupChannels, OffsetScale, RemoveCenter);

    internal DcnvSampling<T> Sampling()
    {
        var parameters = Params();
        return new DcnvSampling<T>(parameters, Kernels.Dcnv3Fields.Dcnv3(parameters), false, Input, Offset, Mask,
            (input, offset, mask) => (this with { Input = input, Offset = offset, Mask = mask! }).Run());
    }
}

/// <summary>The arguments of one <see cref="Functional.Dcnv4{T}"/> call (the packed offset_mask), for the explainer.</summary>
public sealed record Dcnv4Call<T>(
    Tensor<T> Input, Tensor<T> OffsetMask, (int H, int W) Kernel, (int H, int W)? Stride = null, (int H, int W)? Padding = null,
    (int H, int W)? Dilation = null, int Group = 1, int? GroupChannels = null, double OffsetScale = 1.0, bool RemoveCenter = false)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The engine's forward.</summary>
    public Tensor<T> Run() => Functional.Dcnv4(Input, OffsetMask, Kernel, Stride, Padding, Dilation, Group, GroupChannels, OffsetScale, RemoveCenter);

    /// <summary>Checks the arguments exactly as the engine does and returns the geometry.</summary>
    public Dcnv4Params Params() =>
        Dcnv4Params.Create(Input, OffsetMask, Kernel, Stride, Padding, Dilation, Group, GroupChannels, OffsetScale, RemoveCenter);

    internal DcnvSampling<T> Sampling()
    {
        var parameters = Params();
        return new DcnvSampling<T>(parameters.Sampling, Kernels.Dcnv3Fields.Dcnv4(parameters), true, Input, OffsetMask, OffsetMask,
            (input, offsetMask, _) => (this with { Input = input, OffsetMask = offsetMask }).Run());
    }
}

/// <summary>A DCNv3 or DCNv4 call seen the same way: the geometry, where offsets and masks live, the tensors
/// (<see cref="Mask"/> is <see cref="Offset"/> when <see cref="Packed"/>), and the engine's forward on replaced
/// tensors (mask null when packed).</summary>
internal sealed record DcnvSampling<T>(
    Dcnv3Params Geometry, Kernels.Dcnv3Fields Fields, bool Packed, Tensor<T> Input, Tensor<T> Offset, Tensor<T> Mask,
    Func<Tensor<T>, Tensor<T>, Tensor<T>?, Tensor<T>> RunWith)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public void RequireUnit(OutputUnit unit, string argumentName = "unit")
    {
        var g = Geometry;
        if ((uint)unit.N >= (uint)g.Batch || (uint)unit.O >= (uint)g.Channels || (uint)unit.Y >= (uint)g.OutH || (uint)unit.X >= (uint)g.OutW)
            throw new ArgumentOutOfRangeException(argumentName, unit,
                $"{argumentName}: expected an output unit inside [{g.Batch}, {g.OutH}, {g.OutW}, {g.Channels}] (O the channel), got {unit}.");
    }

    /// <summary>1 at <paramref name="unit"/>, 0 elsewhere: the backward of it gives ∂out[unit]/∂(every input).</summary>
    public Tensor<T> OneHot(OutputUnit unit)
    {
        RequireUnit(unit);
        var grad = Tensor<T>.Zeros(Geometry.Batch, Geometry.OutH, Geometry.OutW, Geometry.Channels);
        grad[unit.N, unit.Y, unit.X, unit.O] = T.One;
        return grad;
    }

    /// <summary>The output row (n, y, x) of the unit.</summary>
    public static int Row(Dcnv3Params geometry, OutputUnit unit) => (unit.N * geometry.OutH + unit.Y) * geometry.OutW + unit.X;
}
