using System.Diagnostics;
using System.Runtime.CompilerServices;
using DeformEngine.Cpu;
using DeformEngine.Kernels;

namespace DeformEngine;

public sealed partial class CpuFastBackend
{
    /// <summary>Compiles the fast CPU kernels for <typeparamref name="T"/> now rather than in the first
    /// operator call: runs the GEMM over each micro-kernel width and a small DeformConv2d forward and
    /// backward (mask and bias), so that the JIT compiles the optimised kernels and their callers.
    /// Call it at start-up (or on a background thread while the model loads) when the first call's
    /// latency matters; a process compiled ahead of time (NativeAOT) has nothing left to compile.</summary>
    /// <remarks>Measured on the AVX-512 machine of docs/benchmarks.md: compiling the kernels is most of a
    /// first call's cost under the JIT (about 60 of 90 ms CPU at N1 C256 28×28, the 8×48 GEMM kernel
    /// alone about 17 ms). After <c>Prepare</c>, the first forward at that shape took 1.7–1.8× the steady
    /// time (1.4–1.6× in CPU time). It also sizes each worker thread's packing and tile buffers.</remarks>
    public static void Prepare<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Products whose last column panel needs the full, the one- and the two-vector kernel, and each kernel of a
        // narrow last panel computed by columns (GemmColumnTail: 1, 3 and 5 columns past a full panel; at N1 C512 7×7
        // its kernel was 6 of a first call's 11 ms of compiling).
        int panel = Gemm.PanelColumns<T>();
        foreach (int columns in new[] { 112, 128, panel + 1, panel + 3, panel + 5 })
        {
            var a = new T[8 * 8];
            var b = new T[8 * columns];
            var c = new T[8 * columns];
            Gemm.Multiply(false, false, 8, columns, 8, T.One, a, 8, b, columns, T.Zero, c, columns);
            Gemm.MultiplyPacked(Gemm.PackA<T>(false, 8, 8, a, 8), true, columns, T.One, c, 8, T.Zero, new T[8 * columns], columns);
        }
        // One product large enough for the worker threads, so that its partition of the columns is compiled too.
        {
            const int m = 64, k = 400;
            int n = 2 * panel + 1;
            Gemm.Multiply(false, false, m, n, k, T.One, new T[m * k], k, new T[k * n], n, T.Zero, new T[m * n], n);
        }
        // Through the backend itself, so that the backward runs whether or not gradients are enabled.
        foreach (var (channels, size, outChannels, backward) in PrepareLayers<T>())
        {
            var input = Tensor<T>.Zeros(1, channels, size, size);
            var offset = Tensor<T>.Zeros(1, 18, size, size);
            var mask = Tensor<T>.Ones(1, 9, size, size);
            var weight = Tensor<T>.Zeros(outChannels, channels, 3, 3);
            var bias = Tensor<T>.Zeros(outChannels);
            var parameters = DeformConv2dParams.Create(input, offset, weight, bias, null, (1, 1), null, mask);
            var output = Instance.DeformConv2d(parameters, input, offset, weight, bias, mask);
            if (backward)
            {
                Instance.DeformConv2dBackward(parameters, Tensor<T>.Ones(output.Shape), input, offset, weight, bias, mask, [true, true, true, true, true]);
                // And once through the public entry, which finds the backend (none of these tensors records a graph).
                Functional.DeformConv2d(input, offset, weight, bias, padding: (1, 1), mask: mask);
            }
        }
        WarmWorkerBuffers<T>();
    }

    /// <summary>The DeformConv2d layers (3×3, padding 1, mask and bias; input channels, height = width, output
    /// channels, whether the backward runs too) that <see cref="Prepare{T}"/> runs: a tiny one; one whose columns
    /// are deeper than one GEMM depth step and whose tiles hold whole vectors of positions (the tiled forward at
    /// full width, the next step's prefetches); and one whose column rows are too long for a tile (the untiled
    /// forward: im2col, one product, the channel-major copy). Before they were there, a first call at N2 C512
    /// 14×14 compiled 13 methods (5 ms).</summary>
    internal static (int Channels, int Size, int OutChannels, bool Backward)[] PrepareLayers<T>() where T : unmanaged
    {
        // Column rows of 9·C elements too long for the largest tile to hold MinForwardTileRows of them.
        int size = Unsafe.SizeOf<T>();
        int untiledChannels = (int)Math.Min(4096, DeformConv2dWorkspace.LargestTileBytes /
            ((long)DeformConv2dWorkspace.MinForwardTileRows(size) * 9 * size) + 1);
        return [(8, 5, 8, true), (64, 10, 16, true), (untiledChannels, 4, 8, false)];
    }

    /// <summary>On every worker thread (the caller and the <see cref="EngineOptions.Threads"/> − 1 helpers):
    /// allocates and touches the GEMM's packing buffer and the tiled forward's tile buffer at full size, so
    /// that a first call takes no page faults for them (about 5 MiB on two threads; with the kernels already
    /// compiled, their first touch was a good part of what a first forward still spent over a steady one).
    /// Each participant waits, up to 100 ms, for the others to arrive, so that the loop is not closed before
    /// a helper that is still waking up has joined it.</summary>
    private static void WarmWorkerBuffers<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        int threads = Math.Max(1, EngineOptions.Threads), arrived = 0;
        int tileLength = (int)Math.Min(int.MaxValue, DeformConv2dWorkspace.LargestTileBytes / Unsafe.SizeOf<T>());
        long start = Stopwatch.GetTimestamp();
        CpuWorkers.Run(threads, () =>
        {
            Gemm.WarmThreadBuffers<T>();
            ThreadScratch<T>.Get(tileLength).Clear();
            Interlocked.Increment(ref arrived);
            var spinner = new SpinWait();
            while (Volatile.Read(ref arrived) < threads && Stopwatch.GetElapsedTime(start).TotalMilliseconds < 100)
                spinner.SpinOnce(sleep1Threshold: -1);
        });
    }
}
