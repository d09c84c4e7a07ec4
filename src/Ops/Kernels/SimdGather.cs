using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DeformEngine.Kernels;

/// <summary>Vector256 helpers for the fast deformable kernels: a gather of 8 floats (or 4 doubles)
/// at 32-bit element indices, and a fused multiply-add. The scalar code beside them uses
/// <c>T.FusedMultiplyAdd</c> in the same order, so a column gives the same bits whichever path
/// computed it.</summary>
internal static unsafe class SimdGather
{
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>Lanes of one vector of <typeparamref name="T"/> (8 floats or 4 doubles).</summary>
    public static int Lanes<T>() where T : unmanaged => Vector256<T>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Gather<T>(T* source, Vector256<int> index) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            return Avx2.GatherVector256((float*)source, index, 4).As<float, T>();
        if (typeof(T) == typeof(double))
            return Avx2.GatherVector256((double*)source, index.GetLower(), 8).As<double, T>();
        throw new NotSupportedException(typeof(T).Name);
    }

    /// <summary>a · b + c with one rounding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> MultiplyAdd<T>(Vector256<T> a, Vector256<T> b, Vector256<T> c) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            return Fma.MultiplyAdd(a.As<T, float>(), b.As<T, float>(), c.As<T, float>()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Fma.MultiplyAdd(a.As<T, double>(), b.As<T, double>(), c.As<T, double>()).As<double, T>();
        throw new NotSupportedException(typeof(T).Name);
    }
}
