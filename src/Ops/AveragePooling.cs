namespace DeformEngine;

/// <summary>The loops shared by <see cref="Functional.AvgPool2d{T}"/> and
/// <see cref="Functional.AdaptiveAvgPool2d{T}"/>: each output is the sum of a rectangle of its
/// input plane divided by a divisor; the backward spreads ∂L/∂out / divisor over the rectangle.</summary>
internal static partial class AveragePooling
{
    /// <summary>A pooling window clipped to the input, and what its sum is divided by: DivisorRows ·
    /// DivisorColumns, kept as two factors that each fit an int (a 2^30 × 2^30 kernel divides by 2^60).</summary>
    public readonly record struct Window(int YStart, int YEnd, int XStart, int XEnd, int DivisorRows, int DivisorColumns)
    {
        public long Divisor => (long)DivisorRows * DivisorColumns;
    }

    public static Tensor<T> Run<T>(Tensor<T> input, Window[] windows, int outH, int outW, string opName)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!input.Device.IsCpu) return RunOnDevice(input, windows, outH, outW, opName);
        var shape = input.ShapeArray;
        int planes = shape[0] * shape[1], h = shape[2], w = shape[3];
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
        var output = Tensor<T>.Wrap(result, shape[0], shape[1], outH, outW);
        return Autograd.Record(output, opName, (grad, _) =>
        {
            var g = grad.CpuData;
            var gradInput = new T[src.Length];
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
            return [Tensor<T>.Wrap(gradInput, shape)];
        }, input);
    }
}
