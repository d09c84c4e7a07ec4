using ILGPU;
using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>How a backward kernel writes the input gradient (its <c>mode</c> argument).</summary>
internal enum ScatterMode
{
    /// <summary>Not at all (no input gradient asked for, or a non-finite bound).</summary>
    None = 0,

    /// <summary>Float atomics into the zeroed gradient.</summary>
    Atomic = 1,

    /// <summary>64-bit fixed point into a zeroed scratch buffer, converted afterwards.</summary>
    Fixed = 2,
}

/// <summary>Scatter-adds of the sampling backward passes, fast (float atomics) or deterministic
/// (64-bit fixed point).</summary>
public abstract partial class GpuDevice
{
    // Fixed-point sums stay below 2^62: one bit of headroom under long's 2^63.
    private const int FixedPointBits = 62;

    // Limits of the fixed-point scale 2^e, so that it and its inverse are normal floats.
    private const int MinScaleExponent = -120, MaxScaleExponent = 120;

    /// <summary>
    /// Runs a kernel that scatters into <paramref name="gradInput"/> (when not null: the range the kernel adds to)
    /// and writes all of it. Fast mode: zero the range, float atomics. Deterministic mode: add (long)(value·2^e)
    /// into a zeroed 64-bit buffer of the range's size, with e the largest exponent that keeps
    /// <paramref name="bound"/>·2^e below 2^62, then convert once. Non-finite upstream values leave no usable
    /// scale; the range is then NaN, as some of its cells would be on the CPU.
    /// </summary>
    private void Scatter<T>(ArrayView<T>? gradInput, Func<double> bound, Action<ScatterMode, ArrayView<long>, T> launch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArrayView<long> noCells = ViewOrPlaceholder<long>(null);
        if (gradInput is not { } destination)
        {
            launch(ScatterMode.None, noCells, T.One);
            return;
        }
        if (!Deterministic)
        {
            Fill(destination, T.Zero);
            launch(ScatterMode.Atomic, noCells, T.One);
            return;
        }
        double limit = bound();
        if (!double.IsFinite(limit))
        {
            launch(ScatterMode.None, noCells, T.One);
            Fill(destination, T.NaN);
            return;
        }
        int exponent = limit > 0
            ? Math.Clamp(FixedPointBits - (int)Math.Ceiling(Math.Log2(limit)), MinScaleExponent, MaxScaleExponent)
            : 0;
        using var fixedCells = (GpuDeviceBuffer)Allocate<long>(destination.Length);
        var cells = fixedCells.View<long>().SubView(0, destination.Length);
        Zero(cells);
        launch(ScatterMode.Fixed, cells, T.CreateTruncating(Math.ScaleB(1.0, exponent)));
        Launch<T, ArrayView<long>, ArrayView<T>, T, long>(Items(destination.Length), typeof(ElementwiseGpuKernels),
            nameof(ElementwiseGpuKernels.FixedToReal), cells, destination, T.CreateTruncating(Math.ScaleB(1.0, -exponent)), destination.Length);
    }
}
