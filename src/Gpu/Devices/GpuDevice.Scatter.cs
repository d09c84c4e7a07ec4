using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>Scatter-adds of the sampling backward passes, fast (float atomics) or deterministic
/// (64-bit fixed point).</summary>
public abstract partial class GpuDevice
{
    // Fixed-point sums stay below 2^62: one bit of headroom under long's 2^63.
    private const int FixedPointBits = 62;

    // Limits of the fixed-point scale 2^e, so that it and its inverse are normal floats.
    private const int MinScaleExponent = -120, MaxScaleExponent = 120;

    /// <summary>How a backward kernel writes the input gradient (its <c>mode</c> argument).</summary>
    private enum ScatterMode
    {
        /// <summary>Not at all (no input gradient asked for, or a non-finite bound).</summary>
        None = 0,
        /// <summary>Float atomics into the zeroed gradient.</summary>
        Atomic = 1,
        /// <summary>64-bit fixed point into a zeroed scratch buffer, converted afterwards.</summary>
        Fixed = 2,
    }

    /// <summary>
    /// Runs a kernel that scatters into <paramref name="gradInput"/>[offset, offset + count) (when not
    /// null) and writes that range. Fast mode: zero the range, float atomics. Deterministic mode: add
    /// (long)(value·2^e) into a zeroed 64-bit buffer, with e the largest exponent that keeps
    /// <paramref name="bound"/>·2^e below 2^62, then convert once. Non-finite upstream values leave no
    /// usable scale; the range is then NaN, as some of its cells would be on the CPU.
    /// </summary>
    private void Scatter<T>(DeviceBuffer? gradInput, long offset, long count, Func<double> bound,
        Action<int, GpuBuffer, double> launch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (gradInput is null)
        {
            launch((int)ScatterMode.None, _placeholder, 1.0);
            return;
        }
        GpuBuffer destination = Native(gradInput);
        if (!Deterministic)
        {
            FillRange(destination, offset, T.Zero, count);
            launch((int)ScatterMode.Atomic, _placeholder, 1.0);
            return;
        }
        double limit = bound();
        if (!double.IsFinite(limit))
        {
            launch((int)ScatterMode.None, _placeholder, 1.0);
            FillRange(destination, offset, T.NaN, count);
            return;
        }
        int exponent = limit > 0
            ? Math.Clamp(FixedPointBits - (int)Math.Ceiling(Math.Log2(limit)), MinScaleExponent, MaxScaleExponent)
            : 0;
        using GpuBuffer fixedCells = Scratch(count * sizeof(long));
        Context.Zero(fixedCells);
        launch((int)ScatterMode.Fixed, fixedCells, Math.ScaleB(1.0, exponent));
        Elementwise<T>("fixed_to_real").Launch(count, [fixedCells, destination, offset, Real<T>(Math.ScaleB(1.0, -exponent)), count]);
    }
}
