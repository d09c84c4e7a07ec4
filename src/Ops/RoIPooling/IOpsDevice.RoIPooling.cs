namespace DeformEngine;

/// <summary>Sizes of a RoI Align family call (<see cref="Functional.RoIAlign{T}"/>,
/// <see cref="Functional.PSRoIAlign{T}"/>, <see cref="Functional.DeformRoIPool{T}"/>): input
/// [Batch, Channels, Height, Width], <see cref="Rois"/> RoIs of <see cref="PooledH"/>×<see cref="PooledW"/> bins.</summary>
public readonly record struct RoIPoolShape(int Batch, int Channels, int Height, int Width, int Rois, int PooledH, int PooledW)
{
    public long InputCount => (long)Batch * Channels * Height * Width;

    public int Bins => PooledH * PooledW;
}

/// <summary>Sizes and parameters of a <see cref="Functional.DeformPSRoIPool{T}"/> call: input
/// [Batch, OutputDim·GroupSize², Height, Width], output [Rois, OutputDim, PooledSize, PooledSize],
/// trans [Rois, 2·Classes, Parts, Parts].</summary>
public readonly record struct DeformPSRoIPoolShape(int Batch, int Channels, int Height, int Width, int Rois,
    int OutputDim, int GroupSize, int PooledSize, int Parts, int Samples, int Classes, double TransStd)
{
    public long InputCount => (long)Batch * Channels * Height * Width;
}

/// <summary>
/// The RoI pooling primitives. RoIs arrive as tables the host builds once per call from the
/// checked rois: for the RoI Align family a window table [K, 9] of T (batch, start y, start x,
/// height, width, bin height, bin width, grid h, grid w: <c>RoIChecks.AlignWindows</c>), for
/// DeformPSRoIPool a table [K, 5] (batch, start y, start x, height, width of MXNet's rounded RoI).
/// Input gradients are written whole (zeros where no bin reads).
/// </summary>
public partial interface IOpsDevice
{
    void RoIAlign<T>(RoIPoolShape shape, DeviceBuffer input, DeviceBuffer windows, DeviceBuffer output)
        where T : unmanaged, IFloatingPointIeee754<T>;

    void RoIAlignBackward<T>(RoIPoolShape shape, DeviceBuffer gradOutput, DeviceBuffer windows, DeviceBuffer gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>;

    void PSRoIAlign<T>(RoIPoolShape shape, DeviceBuffer input, DeviceBuffer windows, DeviceBuffer output)
        where T : unmanaged, IFloatingPointIeee754<T>;

    void PSRoIAlignBackward<T>(RoIPoolShape shape, DeviceBuffer gradOutput, DeviceBuffer windows, DeviceBuffer gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>offset [K, 2, PH, PW] (channel 0 = x) or null for none.</summary>
    void DeformRoIPool<T>(RoIPoolShape shape, DeviceBuffer input, DeviceBuffer windows, DeviceBuffer? offset, T gamma,
        DeviceBuffer output)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Input gradient (a scatter) and offset gradient (a gather per bin; needs an offset).</summary>
    void DeformRoIPoolBackward<T>(RoIPoolShape shape, DeviceBuffer gradOutput, DeviceBuffer input, DeviceBuffer windows,
        DeviceBuffer? offset, T gamma, DeviceBuffer? gradInput, DeviceBuffer? gradOffset)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>trans null: no offsets (noTrans).</summary>
    void DeformPSRoIPool<T>(DeformPSRoIPoolShape shape, DeviceBuffer input, DeviceBuffer roiTable, DeviceBuffer? trans,
        DeviceBuffer output)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Input gradient (a scatter) and trans gradient (a gather per part; needs trans).</summary>
    void DeformPSRoIPoolBackward<T>(DeformPSRoIPoolShape shape, DeviceBuffer gradOutput, DeviceBuffer input,
        DeviceBuffer roiTable, DeviceBuffer? trans, DeviceBuffer? gradInput, DeviceBuffer? gradTrans)
        where T : unmanaged, IFloatingPointIeee754<T>;
}
