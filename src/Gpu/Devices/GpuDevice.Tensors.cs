using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The strided, reduction, softmax and matrix kernels behind the device's
/// <see cref="ITensorBackend"/>: kernels of <see cref="TensorShapeKernels"/>, <see cref="SoftmaxKernels"/> and
/// <see cref="GemmKernels"/>. Shapes and strides travel in a small int buffer per call.</summary>
public abstract partial class GpuDevice
{
    private void StridedCopy<T>(int[] shape, DeviceBuffer source, long sourceOffset, int[] sourceStrides,
        DeviceBuffer destination, long destinationOffset, int[] destinationStrides)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        RequireRank(shape, sourceStrides, destinationStrides);
        long count = Count(shape);
        if (count == 0) return;
        using GpuBuffer geometry = Ints([.. shape, .. sourceStrides, .. destinationStrides]);
        TensorShape<T>("strided_copy").Launch(count,
            [Native(source), sourceOffset, Native(destination), destinationOffset, geometry, shape.Length, count]);
    }

    private void StridedBinary<T>(BinaryFunction op, int[] shape, DeviceBuffer a, int[] stridesA,
        DeviceBuffer b, int[] stridesB, DeviceBuffer result)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        RequireRank(shape, stridesA, stridesB);
        long count = Count(shape);
        if (count == 0) return;
        using GpuBuffer geometry = Ints([.. shape, .. stridesA, .. stridesB]);
        TensorShape<T>("strided_binary").Launch(count,
            [Native(a), Native(b), Native(result), geometry, shape.Length, (int)op, count]);
    }

    private void StridedSum<T>(DeviceBuffer source, int[] keptShape, int[] keptStrides, int[] reducedShape,
        int[] reducedStrides, DeviceBuffer result)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        RequireRank(keptShape, keptStrides, keptStrides);
        RequireRank(reducedShape, reducedStrides, reducedStrides);
        long count = Count(keptShape);
        if (count == 0) return;
        using GpuBuffer geometry = Ints([.. keptShape, .. keptStrides, .. reducedShape, .. reducedStrides]);
        TensorShape<T>("strided_sum").Launch(count,
            [Native(source), Native(result), geometry, keptShape.Length, reducedShape.Length, Count(reducedShape), count]);
    }

    private void SoftmaxKernel<T>(DeviceBuffer x, DeviceBuffer result, int outer, int size, int inner, bool log)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        Kernel<T>(SoftmaxKernels.SourceName, SoftmaxKernels.Source, "softmax_rows").Launch((long)outer * inner,
            [Native(x), Native(result), (long)outer, size, (long)inner, Flag(log)]);

    private GpuKernel TensorShape<T>(string name) => Kernel<T>(TensorShapeKernels.SourceName, TensorShapeKernels.Source, name);

    private static long Count(int[] shape)
    {
        long count = 1;
        foreach (int d in shape) count *= d;
        return count;
    }

    private static void RequireRank(int[] shape, int[] first, int[] second)
    {
        if (first.Length != shape.Length || second.Length != shape.Length)
            throw new ArgumentException($"strides: expected {shape.Length} per operand for shape {ShapeMath.Format(shape)}, got {first.Length} and {second.Length}.");
    }

    /// <summary>A scratch buffer holding <paramref name="values"/>, for the caller to dispose once the
    /// kernel is issued (both runtimes keep it alive until the kernel has run).</summary>
    private GpuBuffer Ints(int[] values)
    {
        GpuBuffer buffer = Scratch((long)Math.Max(values.Length, 1) * sizeof(int));
        Context.Upload<int>(buffer, values);
        return buffer;
    }
}
