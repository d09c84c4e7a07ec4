using System.Runtime.CompilerServices;
using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The buffer-level elementwise and reduction kernels behind the device's
/// <see cref="ITensorBackend"/> (GpuDevice.Tensors.cs) and its operators.</summary>
public abstract partial class GpuDevice
{
    private const int Local = GpuKernel.DefaultLocalSize;

    private GpuKernel Elementwise<T>(string name) => Kernel<T>(ElementwiseKernels.SourceName, ElementwiseKernels.Source, name);

    /// <summary>Codes of the binary_op kernel beyond <see cref="BinaryFunction"/>'s 0 … 3.</summary>
    private const int ReluBackwardCode = 4, AbsBackwardCode = 5;

    private void Fill<T>(DeviceBuffer destination, T value, long count) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        Elementwise<T>("fill").Launch(count, [Native(destination), Real(value), count]);

    /// <summary>Sets elements [offset, offset + count) of a buffer of <typeparamref name="T"/>.</summary>
    private void FillRange<T>(GpuBuffer destination, long offset, T value, long count) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        Elementwise<T>("fill_at").Launch(count, [destination, offset, Real(value), count]);

    private void FillFromFirst<T>(DeviceBuffer source, DeviceBuffer destination, long count)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        Elementwise<T>("fill_from_first").Launch(count, [Native(source), Native(destination), count]);

    private void Copy<T>(DeviceBuffer source, DeviceBuffer destination, long count)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        Context.Copy(Native(source), Native(destination), count * Unsafe.SizeOf<T>());

    private void UnaryKernel<T>(int code, DeviceBuffer x, DeviceBuffer result, long count)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        Elementwise<T>("unary_op").Launch(count, [Native(x), Native(result), code, count]);

    /// <summary>Same-shape binary_op: a <see cref="BinaryFunction"/> code or <see cref="ReluBackwardCode"/>,
    /// <see cref="AbsBackwardCode"/>; result may alias a.</summary>
    private void BinaryKernel<T>(int code, DeviceBuffer a, DeviceBuffer b, DeviceBuffer result, long count)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        Elementwise<T>("binary_op").Launch(count, [Native(a), Native(b), Native(result), code, count]);

    private void ScalarKernel<T>(ScalarFunction function, DeviceBuffer x, T value, DeviceBuffer result, long count)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        Elementwise<T>("scalar_op").Launch(count, [Native(x), Native(result), Real(value), (int)function, count]);

    /// <summary>A tree of group sums: the order is fixed by the size alone, so the sum is deterministic.</summary>
    private void SumAll<T>(DeviceBuffer x, long count, DeviceBuffer result)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        GpuBuffer sum = Reduce<T>("sum_reduce", Native(x), count);
        try
        {
            Context.Copy(sum, Native(result), Unsafe.SizeOf<T>());
        }
        finally
        {
            sum.Dispose();
        }
    }

    /// <summary>max |x[0 .. count)| read back to the host; NaN when any element is NaN.</summary>
    private double MaxAbs<T>(GpuBuffer x, long count) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (count == 0) return 0;
        GpuBuffer max = Reduce<T>("max_abs_reduce", x, count);
        try
        {
            var value = new T[1];
            Context.Download(max, value.AsSpan());
            return double.CreateTruncating(value[0]);
        }
        finally
        {
            max.Dispose();
        }
    }

    /// <summary>Runs a group-reduction kernel until one value is left (0 for no elements); returns a new
    /// buffer, the caller's to dispose, whose first element holds it.</summary>
    private GpuBuffer Reduce<T>(string kernelName, GpuBuffer x, long count)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        GpuKernel kernel = Elementwise<T>(kernelName);
        int size = Unsafe.SizeOf<T>();
        GpuBuffer current = x;
        long remaining = count;
        if (remaining == 0)
        {
            current = Scratch(size);
            Context.Zero(current);
            return current;
        }
        do
        {
            long groups = (remaining + ElementwiseKernels.ReduceGroupSize - 1) / ElementwiseKernels.ReduceGroupSize;
            GpuBuffer partial = Scratch(groups * size);
            kernel.Launch(groups * ElementwiseKernels.ReduceGroupSize, [current, partial, remaining], ElementwiseKernels.ReduceGroupSize);
            if (current != x) current.Dispose();
            current = partial;
            remaining = groups;
        }
        while (remaining > 1);
        return current;
    }
}
