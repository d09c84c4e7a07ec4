using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DeformEngine.Cpu;

/// <summary>Generic wrappers over the float and double vector operations the micro-kernels
/// need; the type tests are JIT-time constants, so each wrapper compiles to one instruction.</summary>
internal static unsafe class GemmSimd
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Fma<T>(Vector256<T> x, Vector256<T> y, Vector256<T> addend)
    {
        if (typeof(T) == typeof(float))
            return Vector256.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), addend.AsSingle()).As<float, T>();
        return Vector256.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), addend.AsDouble()).As<double, T>();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Fma<T>(Vector512<T> x, Vector512<T> y, Vector512<T> addend)
    {
        if (typeof(T) == typeof(float))
            return Vector512.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), addend.AsSingle()).As<float, T>();
        return Vector512.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), addend.AsDouble()).As<double, T>();
    }

    /// <summary>Tile update shared by the kernels; the scalar edge path in
    /// <see cref="GemmMacroKernel"/> mirrors it lane for lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Update<T>(T* c, Vector256<T> acc, Vector256<T> alpha, Vector256<T> beta, bool overwrite)
        where T : unmanaged
    {
        Vector256<T> result = overwrite ? acc * alpha : Fma(acc, alpha, beta * Vector256.Load(c));
        Vector256.Store(result, c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Update<T>(T* c, Vector512<T> acc, Vector512<T> alpha, Vector512<T> beta, bool overwrite)
        where T : unmanaged
    {
        Vector512<T> result = overwrite ? acc * alpha : Fma(acc, alpha, beta * Vector512.Load(c));
        Vector512.Store(result, c);
    }

    /// <summary>Starts loading the C tile the kernel will update: its lines are touched once per
    /// depth step, long after they left the cache, and fetching them while the FMAs run hides
    /// that miss. Writes allocate the lines too, so this pays off even when C is only written.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void PrefetchTile<T>(T* c, int ldc, int rows, int columns)
        where T : unmanaged
    {
        if (!Sse.IsSupported)
            return;
        // Every line the row touches: a 48-float row spans three or four lines.
        int bytes = columns * sizeof(T);
        for (int row = 0; row < rows; row++)
        {
            byte* first = (byte*)(c + (long)row * ldc);
            for (int offset = 0; offset < bytes; offset += 64)
                Sse.Prefetch0(first + offset);
            Sse.Prefetch0(first + bytes - 1);
        }
    }
}
