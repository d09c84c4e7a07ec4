using ILGPU;
using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The strided, softmax and broadcast launches behind the device's <see cref="ITensorBackend"/> (kernels:
/// <see cref="StridedGpuKernels"/>, <see cref="SoftmaxGpuKernels"/>). Shapes and strides travel in a small int table
/// per call.</summary>
public abstract partial class GpuDevice
{
    internal void StridedCopy<T>(int[] shape, ArrayView<T> source, long sourceOffset, int[] sourceStrides,
        ArrayView<T> destination, long destinationOffset, int[] destinationStrides)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireRank(shape, sourceStrides, destinationStrides);
        long count = Count(shape);
        if (count == 0) return;
        using var geometry = Table<int>([.. shape, .. sourceStrides, .. destinationStrides]);
        Launch<T, ArrayView<T>, ArrayView<T>, ArrayView<int>, StridedArgs>(Items(count), typeof(StridedGpuKernels),
            nameof(StridedGpuKernels.Copy), source, destination, geometry.View<int>(),
            new StridedArgs(shape.Length, sourceOffset, destinationOffset, count));
    }

    internal void StridedBinary<T>(BinaryFunction function, int[] shape, ArrayView<T> a, int[] stridesA,
        ArrayView<T> b, int[] stridesB, ArrayView<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireRank(shape, stridesA, stridesB);
        long count = Count(shape);
        if (count == 0) return;
        using var geometry = Table<int>([.. shape, .. stridesA, .. stridesB]);
        Launch<T, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<int>, int, StridedArgs>(Items(count), typeof(StridedGpuKernels),
            nameof(StridedGpuKernels.Binary), a, b, result, geometry.View<int>(), (int)function, new StridedArgs(shape.Length, 0, 0, count));
    }

    internal void StridedSum<T>(ArrayView<T> source, int[] keptShape, int[] keptStrides, int[] reducedShape,
        int[] reducedStrides, ArrayView<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireRank(keptShape, keptStrides, keptStrides);
        RequireRank(reducedShape, reducedStrides, reducedStrides);
        long count = Count(keptShape);
        if (count == 0) return;
        using var geometry = Table<int>([.. keptShape, .. keptStrides, .. reducedShape, .. reducedStrides]);
        Launch<T, ArrayView<T>, ArrayView<T>, ArrayView<int>, StridedSumArgs>(Items(count), typeof(StridedGpuKernels),
            nameof(StridedGpuKernels.Sum), source, result, geometry.View<int>(),
            new StridedSumArgs(keptShape.Length, reducedShape.Length, Count(reducedShape), count));
    }

    private void SoftmaxRows<T>(ArrayView<T> x, ArrayView<T> result, int outer, int size, int inner, bool log)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Launch<T, ArrayView<T>, ArrayView<T>, long, int, long, int>(Items((long)outer * inner), typeof(SoftmaxGpuKernels),
            nameof(SoftmaxGpuKernels.Rows), x, result, (long)outer, size, (long)inner, log ? 1 : 0);

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
}
