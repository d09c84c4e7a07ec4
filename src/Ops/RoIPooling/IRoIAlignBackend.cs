namespace DeformEngine;

/// <summary>Sizes of a <see cref="Functional.RoIAlign{T}"/> or <see cref="Functional.PSRoIAlign{T}"/> call:
/// input [Batch, Channels, Height, Width], <see cref="Rois"/> RoIs of <see cref="PooledH"/>×<see cref="PooledW"/> bins.
/// The two share one sampler and differ only in the channel map: bin (i, j) of output channel c reads
/// input channel c (RoIAlign) or (c·PH + i)·PW + j (<see cref="PositionSensitive"/>, PSRoIAlign).</summary>
public sealed record RoIAlignParams(int Batch, int Channels, int Height, int Width, int Rois, int PooledH, int PooledW,
    bool PositionSensitive)
{
    /// <summary>Bins per RoI and output channel: PooledH·PooledW.</summary>
    public int Bins => PooledH * PooledW;

    /// <summary>Channels of the output: C, or C/(PH·PW) when position-sensitive.</summary>
    public int OutputChannels => PositionSensitive ? Channels / Bins : Channels;

    /// <summary>Elements of the input, Batch·Channels·Height·Width, in 64 bits.</summary>
    public long InputCount => (long)Batch * Channels * Height * Width;

    /// <summary>The input channel that bin (i, j) of output channel c reads.</summary>
    public int InputChannel(int outputChannel, int i, int j) =>
        PositionSensitive ? (outputChannel * PooledH + i) * PooledW + j : outputChannel;
}

/// <summary>What a backend implements to run <see cref="Functional.RoIAlign{T}"/> and
/// <see cref="Functional.PSRoIAlign{T}"/>. The RoI windows are built on the host from the checked rois
/// (<see cref="RoIWindow{T}"/>, in the operator's precision, so every backend samples the same points).</summary>
public interface IRoIAlignBackend
{
    /// <summary>The bin averages [Rois, OutputChannels, PooledH, PooledW].</summary>
    Tensor<T> RoIAlign<T>(RoIAlignParams parameters, Tensor<T> input, RoIWindow<T>[] windows)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>∂L/∂input: each bin's upstream value scattered to the corners of its samples.</summary>
    Tensor<T> RoIAlignBackward<T>(RoIAlignParams parameters, Tensor<T> gradOutput, RoIWindow<T>[] windows)
        where T : unmanaged, IFloatingPointIeee754<T>;
}
