using ILGPU;

namespace DeformEngine.Gpu.Kernels;

/// <summary>
/// Element-wise kernels behind Core's tensor operations (<c>Ops/Tensor.Unary.cs</c>, <c>Tensor.Binary.cs</c>,
/// <c>Tensor.Scalar.cs</c>) and the end of a deterministic scatter. Function codes are the enums of Core's
/// <c>ITensorBackend</c>; <see cref="ReluBackward"/> and <see cref="AbsBackward"/> extend the binary ones.
/// </summary>
internal static class ElementwiseGpuKernels
{
    /// <summary>Binary codes past <c>BinaryFunction</c>'s 0 … 3: grad·step(x) of Relu and grad·sign(x) of Abs.</summary>
    public const int ReluBackward = 4, AbsBackward = 5;

    public static void Fill<T, R>(ArrayView<T> y, T value, long count)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        for (long i = GridLoop.First; i < count; i += GridLoop.Stride)
            y[i] = value;
    }

    /// <summary>y[i] = source[0]: the broadcast of a one-element tensor, without reading it back.</summary>
    public static void FillFromFirst<T, R>(ArrayView<T> source, ArrayView<T> y, long count)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        for (long i = GridLoop.First; i < count; i += GridLoop.Stride)
            y[i] = source[0];
    }

    /// <summary>function: <c>UnaryFunction</c>. Relu keeps NaN, as the CPU's max(x, 0) does.</summary>
    public static void Unary<T, R>(ArrayView<T> x, ArrayView<T> y, int function, long count)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        for (long i = GridLoop.First; i < count; i += GridLoop.Stride)
        {
            T v = x[i];
            y[i] = function switch
            {
                0 => -v,
                1 => R.Exp(v),
                2 => R.Log(v),
                3 => R.Sqrt(v),
                4 => v > T.Zero || R.IsNaN(v) ? v : T.Zero,
                5 => T.One / (T.One + R.Exp(-v)),
                6 => R.Tanh(v),
                7 => R.Abs(v),
                _ => T.One / v,
            };
        }
    }

    /// <summary>function: <c>BinaryFunction</c>, <see cref="ReluBackward"/> or <see cref="AbsBackward"/>; y may alias a.</summary>
    public static void Binary<T, R>(ArrayView<T> a, ArrayView<T> b, ArrayView<T> y, int function, long count)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        for (long i = GridLoop.First; i < count; i += GridLoop.Stride)
        {
            T u = a[i], v = b[i];
            // NOTE: subgradient 0 at 0 for relu and abs, as on the CPU.
            y[i] = function switch
            {
                0 => u + v,
                1 => u - v,
                2 => u * v,
                3 => u / v,
                ReluBackward => v > T.Zero ? u : T.Zero,
                _ => v > T.Zero ? u : v < T.Zero ? -u : T.Zero,
            };
        }
    }

    /// <summary>function: <c>ScalarFunction</c> (0 add, 1 multiply, 2 power).</summary>
    public static void Scalar<T, R>(ArrayView<T> x, ArrayView<T> y, T value, int function, long count)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        for (long i = GridLoop.First; i < count; i += GridLoop.Stride)
            y[i] = function == 0 ? x[i] + value : function == 1 ? x[i] * value : R.Pow(x[i], value);
    }

    /// <summary>The end of a deterministic scatter: y[i] = cells[i] / scale, the scale a power of two.</summary>
    public static void FixedToReal<T, R>(ArrayView<long> cells, ArrayView<T> y, T inverseScale, long count)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        for (long i = GridLoop.First; i < count; i += GridLoop.Stride)
            y[i] = R.FromLong(cells[i]) * inverseScale;
    }
}
