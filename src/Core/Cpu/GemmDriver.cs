using System.Numerics;
using System.Runtime.Intrinsics;

namespace DeformEngine.Cpu;

/// <summary>Picks the micro-kernel for this machine and the thread count for this size, pins the
/// operands and runs a <see cref="GemmJob{T, TKernel}"/>.</summary>
internal static unsafe class GemmDriver
{
    /// <summary>m·n·k multiply-adds (≈ 128³) below which one thread does the work: such a product
    /// takes tens of microseconds on one core, about what a fork/join costs.</summary>
    private const long ParallelThreshold = 1L << 21;

    /// <summary>Whether this machine runs the Vector512 kernel. Without AVX-512 the Vector256 kernel
    /// still runs (emulated where Vector256 is not accelerated), so every machine takes a tested path.</summary>
    public static bool UsesWideKernel => Vector512.IsHardwareAccelerated;

    public static void Run<T>(in GemmProblem problem, T alpha, ReadOnlySpan<T> a, ReadOnlySpan<T> b, T beta, Span<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (UsesWideKernel)
            Run<T, GemmKernel512<T>>(problem, alpha, a, b, beta, c);
        else
            Run<T, GemmKernel256<T>>(problem, alpha, a, b, beta, c);
    }

    /// <summary>Runs with an explicit kernel; tests use it to cover the kernel this machine does
    /// not pick.</summary>
    internal static void Run<T, TKernel>(in GemmProblem problem, T alpha, ReadOnlySpan<T> a, ReadOnlySpan<T> b, T beta, Span<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : struct, IGemmKernel<T>
    {
        long work = (long)problem.M * problem.N * problem.K;
        int threads = work < ParallelThreshold ? 1 : EngineOptions.Threads;
        fixed (T* pa = a, pb = b, pc = c)
            new GemmJob<T, TKernel>(problem, pa, pb, pc, alpha, beta, threads).Execute();
    }

    /// <summary>C = alpha·A·op(B) + beta·C with A packed beforehand, by the kernel it was packed for, on at most
    /// <paramref name="maxThreads"/> threads (0: <see cref="EngineOptions.Threads"/>).</summary>
    public static void Run<T>(in GemmProblem problem, GemmPackedA<T> a, T alpha, ReadOnlySpan<T> b, T beta, Span<T> c, int maxThreads = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.WideKernel)
            RunPacked<T, GemmKernel512<T>>(problem, a, alpha, b, beta, c, maxThreads);
        else
            RunPacked<T, GemmKernel256<T>>(problem, a, alpha, b, beta, c, maxThreads);
    }

    private static void RunPacked<T, TKernel>(in GemmProblem problem, GemmPackedA<T> a, T alpha, ReadOnlySpan<T> b, T beta, Span<T> c,
        int maxThreads)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : struct, IGemmKernel<T>
    {
        long work = (long)problem.M * problem.N * problem.K;
        int threads = work < ParallelThreshold ? 1 : maxThreads > 0 ? Math.Min(maxThreads, EngineOptions.Threads) : EngineOptions.Threads;
        fixed (T* pb = b, pc = c)
            new GemmJob<T, TKernel>(problem, null, pb, pc, alpha, beta, threads, a.Pointer).Execute();
        // The kernels read the packed A through a raw pointer: the caller may hold no other reference to it
        // (Gemm.MultiplyPacked(Gemm.PackA(...), ...)), and once this method is optimised nothing else keeps it
        // alive, so a collection during the product could free its pinned storage under the kernels.
        GC.KeepAlive(a);
    }
}
