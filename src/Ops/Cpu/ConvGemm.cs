using System.Runtime.CompilerServices;
using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Numerics.Tensors;
using DeformEngine.Cpu;

namespace DeformEngine.Kernels;

/// <summary>The three grouped matrix products shared by Conv2d and DeformConv2d, on one image's
/// column matrix [rows = C_in·kh·kw, cols = OutH·OutW] and a weight [C_out, C_in/groups·kh·kw].</summary>
internal static class ConvGemm
{
    /// <summary>out_g = W_g · columns_g.</summary>
    public static void Forward<T>(int groups, int outChannels, int rows, int cols, ReadOnlySpan<T> weight,
        ReadOnlySpan<T> columns, Span<T> output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int og = outChannels / groups, rg = rows / groups;
        for (int g = 0; g < groups; g++)
            Gemm.Multiply(false, false, og, cols, rg, T.One,
                weight.Slice(g * og * rg, og * rg), rg, columns.Slice(g * rg * cols, rg * cols), cols,
                T.Zero, output.Slice(g * og * cols, og * cols), cols);
    }

    /// <summary>gradWeight_g += gradOut_g · columns_gᵀ.</summary>
    public static void GradWeight<T>(int groups, int outChannels, int rows, int cols, ReadOnlySpan<T> gradOut,
        ReadOnlySpan<T> columns, Span<T> gradWeight) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int og = outChannels / groups, rg = rows / groups;
        for (int g = 0; g < groups; g++)
            Gemm.Multiply(false, true, og, rg, cols, T.One,
                gradOut.Slice(g * og * cols, og * cols), cols, columns.Slice(g * rg * cols, rg * cols), cols,
                T.One, gradWeight.Slice(g * og * rg, og * rg), rg);
    }

    /// <summary>gradColumns_g = W_gᵀ · gradOut_g.</summary>
    public static void GradColumns<T>(int groups, int outChannels, int rows, int cols, ReadOnlySpan<T> weight,
        ReadOnlySpan<T> gradOut, Span<T> gradColumns) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int og = outChannels / groups, rg = rows / groups;
        for (int g = 0; g < groups; g++)
            Gemm.Multiply(true, false, rg, cols, og, T.One,
                weight.Slice(g * og * rg, og * rg), rg, gradOut.Slice(g * og * cols, og * cols), cols,
                T.Zero, gradColumns.Slice(g * rg * cols, rg * cols), cols);
    }

    public static void AddBias<T>(ReadOnlySpan<T> bias, Span<T> output, int batch, int plane)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int n = 0; n < batch; n++)
            for (int o = 0; o < bias.Length; o++)
            {
                var row = output.Slice((n * bias.Length + o) * plane, plane);
                for (int i = 0; i < row.Length; i++) row[i] += bias[o];
            }
    }

    public static T[] GradBias<T>(ReadOnlySpan<T> gradOut, int batch, int outChannels, int plane)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new T[outChannels];
        for (int n = 0; n < batch; n++)
            for (int o = 0; o < outChannels; o++)
            {
                var row = gradOut.Slice((n * outChannels + o) * plane, plane);
                T sum = T.Zero;
                foreach (var v in row) sum += v;
                result[o] += sum;
            }
        return result;
    }

    /// <summary>Copies images [first, first + images) of an [N, O, L] tensor into the channel-major
    /// [O, images·L] layout of a chunk's GEMM, in tasks of output channels. With <paramref name="gradBias"/>, adds each
    /// plane's sum to gradBias[o] on the way: called for the chunks in order, the same sums in the same order as
    /// <see cref="GradBiasVectorized{T}"/>, without a second pass over the upstream gradient.</summary>
    public static unsafe void ToChannelMajor<T>(ReadOnlySpan<T> batch, int first, int images, int outChannels, int plane, Span<T> chunk,
        T[]? gradBias = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int size = images * plane;
        fixed (T* from = batch)
        fixed (T* to = chunk)
        {
            T* source = from, destination = to;
            ForChannelBlocks(outChannels, size, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
            {
                for (int o = start; o < end; o++)
                    for (int b = 0; b < images; b++)
                    {
                        var row = new ReadOnlySpan<T>(source + ((long)(first + b) * outChannels + o) * plane, plane);
                        row.CopyTo(new Span<T>(destination + ((long)o * images + b) * plane, plane));
                        if (gradBias is not null)
                            gradBias[o] += TensorPrimitives.Sum(row);
                    }
            });
        }
    }

    /// <summary>The inverse of <see cref="ToChannelMajor{T}"/>, adding bias[o] on the way (bias may be empty), in tasks
    /// of output channels.</summary>
    public static unsafe void FromChannelMajor<T>(ReadOnlySpan<T> chunk, ReadOnlySpan<T> bias, int first, int images, int outChannels, int plane,
        Span<T> batch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int size = images * plane;
        fixed (T* from = chunk)
        fixed (T* to = batch)
        fixed (T* added = bias)
        {
            T* source = from, destination = to, biasValues = added;
            ForChannelBlocks(outChannels, size, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
            {
                for (int o = start; o < end; o++)
                    for (int b = 0; b < images; b++)
                    {
                        var row = new ReadOnlySpan<T>(source + ((long)o * images + b) * plane, plane);
                        var destinationRow = new Span<T>(destination + ((long)(first + b) * outChannels + o) * plane, plane);
                        if (biasValues == null) row.CopyTo(destinationRow);
                        else AddBias(row, biasValues[o], destinationRow);
                    }
            });
        }
    }

    /// <summary>destination[i] = source[i] + bias (the same sums as TensorPrimitives.Add; source may be
    /// destination). Compiled optimised at once: the forward adds a bias to every row of every tile, and a
    /// library call there ran as tier-0 code through a process's first forward passes (0.2–0.4 ms of the first
    /// call at N1 C256 28×28 after CpuFastBackend.Prepare).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddBias<T>(ReadOnlySpan<T> source, T bias, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (destination.Length < source.Length)
            throw new ArgumentException($"destination: expected at least {source.Length} elements, got {destination.Length}.", nameof(destination));
        int i = 0;
        if (Vector.IsHardwareAccelerated && source.Length >= Vector<T>.Count)
        {
            var value = new Vector<T>(bias);
            ref T from = ref MemoryMarshal.GetReference(source);
            ref T to = ref MemoryMarshal.GetReference(destination);
            for (; i <= source.Length - Vector<T>.Count; i += Vector<T>.Count)
                Vector.StoreUnsafe(Vector.LoadUnsafe(ref from, (nuint)i) + value, ref to, (nuint)i);
        }
        for (; i < source.Length; i++)
            destination[i] = source[i] + bias;
    }

    /// <summary><see cref="GradBias{T}"/> with vectorised row sums (same order over images).</summary>
    public static T[] GradBiasVectorized<T>(ReadOnlySpan<T> gradOut, int batch, int outChannels, int plane)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new T[outChannels];
        for (int n = 0; n < batch; n++)
            for (int o = 0; o < outChannels; o++)
                result[o] += TensorPrimitives.Sum(gradOut.Slice((n * outChannels + o) * plane, plane));
        return result;
    }

    /// <summary>weight [O, Cg, K] → [O, K, Cg]: the order of a position-major column row (see
    /// <see cref="DeformChunk"/>), kernel point first, so that a sample's channels are contiguous.</summary>
    public static unsafe void ToKernelPointMajor<T>(ReadOnlySpan<T> weight, int outChannels, int groupChannels, int kernelPoints, Span<T> permuted)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int size = groupChannels * kernelPoints;
        fixed (T* from = weight)
        fixed (T* to = permuted)
        {
            T* source = from, destination = to;
            // Pure copies, split over blocks of output channels (a few 100 µs to ms on C = 256–512).
            ForChannelBlocks(outChannels, size, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
            {
                for (int o = start; o < end; o++)
                    BlockTranspose.Transpose(source + (long)o * size, kernelPoints, destination + (long)o * size, groupChannels, groupChannels, kernelPoints);
            });
        }
    }

    /// <summary>Turns a weight gradient computed in the permuted order [O, K, Cg] into [O, Cg, K] in
    /// place (the inverse of <see cref="ToKernelPointMajor{T}"/>): each output channel's row is copied
    /// to a small buffer and transposed back. The weight-gradient GEMM writes straight into the
    /// result array, so no separate permuted gradient is allocated, cleared or copied.</summary>
    public static unsafe void FromKernelPointMajorInPlace<T>(Span<T> weight, int outChannels, int groupChannels, int kernelPoints)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int size = groupChannels * kernelPoints;
        fixed (T* pointer = weight)
        {
            T* rows = pointer;
            // Each row is copied to a small buffer and comes back through 8×8 register transposes
            // (8-lane stores at stride K): alone on one core, O = C = 512, 0.9 ms against 2.9 ms for
            // the element loop.
            ForChannelBlocks(outChannels, size, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
            {
                T[] buffer = ArrayPool<T>.Shared.Rent(size);
                try
                {
                    fixed (T* a = buffer)
                        for (int o = start; o < end; o++)
                        {
                            T* b = rows + (long)o * size;
                            new ReadOnlySpan<T>(b, size).CopyTo(buffer);
                            BlockTranspose.Transpose(a, groupChannels, b, kernelPoints, kernelPoints, groupChannels);
                        }
                }
                finally
                {
                    ArrayPool<T>.Shared.Return(buffer);
                }
            });
        }
    }

    /// <summary>Runs <paramref name="body"/> over blocks [start, end) of output channels, in parallel: tasks of about
    /// 64 K elements (<paramref name="size"/> per output channel), at most one per output channel. For the weight
    /// permutations and the layout copies.</summary>
    private static void ForChannelBlocks(int outChannels, int size, Action<int, int> body)
    {
        int tasks = (int)Math.Clamp((long)outChannels * size / (1 << 16), 1, Math.Max(1, outChannels));
        ParallelLoop.For(tasks, task => body((int)((long)task * outChannels / tasks), (int)((long)(task + 1) * outChannels / tasks)));
    }

    /// <summary>Position-major columns [rows, rowLength], group g's block at columns g·rowLength/groups,
    /// and a permuted weight [O, rowLength/groups]: out_g [O/groups, rows] = W_g · columns_gᵀ.</summary>
    public static void ForwardPositionMajor<T>(int groups, int outChannels, int rowLength, int rows, ReadOnlySpan<T> weight,
        ReadOnlySpan<T> columns, Span<T> output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int og = outChannels / groups, kg = rowLength / groups;
        for (int g = 0; g < groups; g++)
            Gemm.Multiply(false, true, og, rows, kg, T.One, weight.Slice(g * og * kg, og * kg), kg,
                columns[(g * kg)..], rowLength, T.Zero, output.Slice(g * og * rows, og * rows), rows);
    }

    /// <summary>The forward product of <see cref="ForwardPositionMajor{T}"/> with each group's permuted
    /// weight packed beforehand (<see cref="DeformConv2dWeights"/>); bitwise the same result.</summary>
    public static void ForwardPositionMajorPacked<T>(GemmPackedA<T>[] weight, int outChannels, int rowLength, int rows,
        ReadOnlySpan<T> columns, Span<T> output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int groups = weight.Length, og = outChannels / groups, kg = rowLength / groups;
        for (int g = 0; g < groups; g++)
            Gemm.MultiplyPacked(weight[g], true, rows, T.One, columns[(g * kg)..], rowLength, T.Zero, output.Slice(g * og * rows, og * rows), rows);
    }

    /// <summary>gradColumns_g [rows, rowLength/groups] = gradOut_gᵀ · W_g (position-major, permuted weight).</summary>
    public static void GradColumnsPositionMajor<T>(int groups, int outChannels, int rowLength, int rows, ReadOnlySpan<T> weight,
        ReadOnlySpan<T> gradOut, Span<T> gradColumns) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int og = outChannels / groups, kg = rowLength / groups;
        for (int g = 0; g < groups; g++)
            Gemm.Multiply(true, false, rows, kg, og, T.One, gradOut.Slice(g * og * rows, og * rows), rows,
                weight.Slice(g * og * kg, og * kg), kg, T.Zero, gradColumns[(g * kg)..], rowLength);
    }

    /// <summary>gradWeight_g [O/groups, rowLength/groups] (+)= gradOut_g · columns_g (position-major, permuted
    /// weight): adds to gradWeight when <paramref name="accumulate"/>, else overwrites it without reading it.</summary>
    public static void GradWeightPositionMajor<T>(int groups, int outChannels, int rowLength, int rows, ReadOnlySpan<T> gradOut,
        ReadOnlySpan<T> columns, Span<T> gradWeight, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int og = outChannels / groups, kg = rowLength / groups;
        for (int g = 0; g < groups; g++)
            Gemm.Multiply(false, false, og, kg, rows, T.One, gradOut.Slice(g * og * rows, og * rows), rows,
                columns[(g * kg)..], rowLength, accumulate ? T.One : T.Zero, gradWeight.Slice(g * og * kg, og * kg), kg);
    }
}
