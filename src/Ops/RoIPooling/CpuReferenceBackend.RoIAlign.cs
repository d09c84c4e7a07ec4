using DeformEngine.Kernels;

namespace DeformEngine;

/// <summary>The reference <see cref="IRoIAlignBackend"/>: one loop over (RoI, output channel, bin) with the
/// channel map of <see cref="RoIAlignParams.InputChannel"/> and the shared bin sampler
/// (<see cref="RoIAlignSampler"/>).</summary>
public partial class CpuReferenceBackend : IRoIAlignBackend
{
    /// <inheritdoc />
    public virtual Tensor<T> RoIAlign<T>(RoIAlignParams parameters, Tensor<T> input, RoIWindow<T>[] windows)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var source = input.CpuData;
        var (c, h, w, ph, pw) = (parameters.Channels, parameters.Height, parameters.Width, parameters.PooledH, parameters.PooledW);
        int channelsOut = parameters.OutputChannels, plane = h * w;
        var result = new T[parameters.Rois * channelsOut * ph * pw];
        for (int r = 0; r < parameters.Rois; r++)
            for (int co = 0; co < channelsOut; co++)
                for (int i = 0; i < ph; i++)
                    for (int j = 0; j < pw; j++)
                    {
                        var inputPlane = source.AsSpan((windows[r].Batch * c + parameters.InputChannel(co, i, j)) * plane, plane);
                        result[((r * channelsOut + co) * ph + i) * pw + j] =
                            RoIAlignSampler.Average(inputPlane, h, w, windows[r], i, j, T.Zero, T.Zero);
                    }
        return Tensor<T>.Wrap(result, parameters.Rois, channelsOut, ph, pw);
    }

    /// <inheritdoc />
    public virtual Tensor<T> RoIAlignBackward<T>(RoIAlignParams parameters, Tensor<T> gradOutput, RoIWindow<T>[] windows)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var upstream = gradOutput.CpuData;
        var (c, h, w, ph, pw) = (parameters.Channels, parameters.Height, parameters.Width, parameters.PooledH, parameters.PooledW);
        int channelsOut = parameters.OutputChannels, plane = h * w;
        var gradInput = new T[parameters.InputCount];
        for (int r = 0; r < parameters.Rois; r++)
            for (int co = 0; co < channelsOut; co++)
                for (int i = 0; i < ph; i++)
                    for (int j = 0; j < pw; j++)
                    {
                        var target = gradInput.AsSpan((windows[r].Batch * c + parameters.InputChannel(co, i, j)) * plane, plane);
                        RoIAlignSampler.Scatter(target, h, w, windows[r], i, j, T.Zero, T.Zero,
                            upstream[((r * channelsOut + co) * ph + i) * pw + j]);
                    }
        return Tensor<T>.Wrap(gradInput, parameters.Batch, c, h, w);
    }
}
