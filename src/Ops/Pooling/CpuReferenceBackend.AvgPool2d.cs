namespace DeformEngine;

/// <summary>The reference <see cref="IAvgPool2dBackend"/>: window sums per plane.</summary>
public partial class CpuReferenceBackend : IAvgPool2dBackend
{
    /// <inheritdoc />
    public virtual Tensor<T> AvgPool2d<T>(Pool2dParams parameters, PoolWindow[] windows, Tensor<T> input)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int planes = parameters.Planes, h = parameters.Height, w = parameters.Width;
        var src = input.CpuData;
        var result = new T[planes * windows.Length];
        for (int plane = 0; plane < planes; plane++)
        {
            int inBase = plane * h * w, outBase = plane * windows.Length;
            for (int k = 0; k < windows.Length; k++)
            {
                var win = windows[k];
                T sum = T.Zero;
                for (int y = win.YStart; y < win.YEnd; y++)
                    for (int x = win.XStart; x < win.XEnd; x++) sum += src[inBase + y * w + x];
                result[outBase + k] = sum / T.CreateChecked(win.Divisor);
            }
        }
        return Tensor<T>.Wrap(result, parameters.Batch, parameters.Channels, parameters.OutH, parameters.OutW);
    }

    /// <inheritdoc />
    public virtual Tensor<T> AvgPool2dBackward<T>(Pool2dParams parameters, PoolWindow[] windows, Tensor<T> gradOutput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int planes = parameters.Planes, h = parameters.Height, w = parameters.Width;
        var g = gradOutput.CpuData;
        var gradInput = new T[parameters.InputCount];
        for (int plane = 0; plane < planes; plane++)
        {
            int inBase = plane * h * w, outBase = plane * windows.Length;
            for (int k = 0; k < windows.Length; k++)
            {
                var win = windows[k];
                T share = g[outBase + k] / T.CreateChecked(win.Divisor);
                for (int y = win.YStart; y < win.YEnd; y++)
                    for (int x = win.XStart; x < win.XEnd; x++) gradInput[inBase + y * w + x] += share;
            }
        }
        return Tensor<T>.Wrap(gradInput, parameters.Batch, parameters.Channels, h, w);
    }
}
