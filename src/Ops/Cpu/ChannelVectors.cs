using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DeformEngine.Kernels;

/// <summary>The inner loops of the fast deformable kernels: one bilinear sample applied to a run of
/// consecutive channels of a channels-last image, with Vector256 (8 floats, 4 doubles) and a scalar
/// tail. Both use fused multiply-adds in the same order, so a channel's result does not depend on
/// which of the two computed it.</summary>
internal static unsafe class ChannelVectors
{
    private static bool UseVectors => Vector256.IsHardwareAccelerated;

    /// <summary>dest[i] = w0·lt[i] + w1·rt[i] + w2·lb[i] + w3·rb[i] for i &lt; count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Bilinear<T>(T* dest, T* lt, T* rt, T* lb, T* rb, T w0, T w1, T w2, T w3, int count)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (UseVectors)
        {
            var v0 = Vector256.Create(w0);
            var v1 = Vector256.Create(w1);
            var v2 = Vector256.Create(w2);
            var v3 = Vector256.Create(w3);
            for (; i <= count - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var sum = v0 * Vector256.Load(lt + i);
                sum = FusedVectors.MultiplyAdd(v1, Vector256.Load(rt + i), sum);
                sum = FusedVectors.MultiplyAdd(v2, Vector256.Load(lb + i), sum);
                FusedVectors.MultiplyAdd(v3, Vector256.Load(rb + i), sum).Store(dest + i);
            }
        }
        for (; i < count; i++)
        {
            T sum = w0 * lt[i];
            sum = T.FusedMultiplyAdd(w1, rt[i], sum);
            sum = T.FusedMultiplyAdd(w2, lb[i], sum);
            dest[i] = T.FusedMultiplyAdd(w3, rb[i], sum);
        }
    }

    /// <summary>Σ_i upstream[i]·corner[i] for the four corners (lanes summed at the end, then the
    /// scalar tail), and, when <paramref name="dest"/> is not null, the bilinear sample as
    /// <see cref="Bilinear{T}"/> written on the way (the corners are loaded once for both).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CornerSums<T>(T* upstream, T* lt, T* rt, T* lb, T* rb, int count,
        T* dest, T w0, T w1, T w2, T w3, out T sumLt, out T sumRt, out T sumLb, out T sumRb)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        sumLt = sumRt = sumLb = sumRb = T.Zero;
        if (UseVectors && count >= Vector256<T>.Count)
        {
            var v0 = Vector256.Create(w0);
            var v1 = Vector256.Create(w1);
            var v2 = Vector256.Create(w2);
            var v3 = Vector256.Create(w3);
            Vector256<T> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; i <= count - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var a = Vector256.Load(lt + i);
                var b = Vector256.Load(rt + i);
                var c = Vector256.Load(lb + i);
                var d = Vector256.Load(rb + i);
                if (dest != null)
                {
                    var sum = v0 * a;
                    sum = FusedVectors.MultiplyAdd(v1, b, sum);
                    sum = FusedVectors.MultiplyAdd(v2, c, sum);
                    FusedVectors.MultiplyAdd(v3, d, sum).Store(dest + i);
                }
                var u = Vector256.Load(upstream + i);
                s0 = FusedVectors.MultiplyAdd(u, a, s0);
                s1 = FusedVectors.MultiplyAdd(u, b, s1);
                s2 = FusedVectors.MultiplyAdd(u, c, s2);
                s3 = FusedVectors.MultiplyAdd(u, d, s3);
            }
            sumLt = Vector256.Sum(s0);
            sumRt = Vector256.Sum(s1);
            sumLb = Vector256.Sum(s2);
            sumRb = Vector256.Sum(s3);
        }
        for (; i < count; i++)
        {
            T a = lt[i], b = rt[i], c = lb[i], d = rb[i];
            if (dest != null)
            {
                T sum = w0 * a;
                sum = T.FusedMultiplyAdd(w1, b, sum);
                sum = T.FusedMultiplyAdd(w2, c, sum);
                dest[i] = T.FusedMultiplyAdd(w3, d, sum);
            }
            T u = upstream[i];
            sumLt = T.FusedMultiplyAdd(u, a, sumLt);
            sumRt = T.FusedMultiplyAdd(u, b, sumRt);
            sumLb = T.FusedMultiplyAdd(u, c, sumLb);
            sumRb = T.FusedMultiplyAdd(u, d, sumRb);
        }
    }

    /// <summary>lt[i] += w0·upstream[i], rt[i] += w1·upstream[i], … (the adjoint of <see cref="Bilinear{T}"/>). With
    /// <paramref name="wide"/>, runs of at least one Vector512 go 512 bits at a time where AVX-512 is there (the
    /// attention kernels ask for it; each element gets the same fused multiply-add at any width).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scatter<T>(T* upstream, T* lt, T* rt, T* lb, T* rb, T w0, T w1, T w2, T w3, int count, bool wide = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (wide && Vector512.IsHardwareAccelerated && count >= Vector512<T>.Count)
        {
            var v0 = Vector512.Create(w0);
            var v1 = Vector512.Create(w1);
            var v2 = Vector512.Create(w2);
            var v3 = Vector512.Create(w3);
            for (; i <= count - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                var u = Vector512.Load(upstream + i);
                FusedVectors.MultiplyAdd(v0, u, Vector512.Load(lt + i)).Store(lt + i);
                FusedVectors.MultiplyAdd(v1, u, Vector512.Load(rt + i)).Store(rt + i);
                FusedVectors.MultiplyAdd(v2, u, Vector512.Load(lb + i)).Store(lb + i);
                FusedVectors.MultiplyAdd(v3, u, Vector512.Load(rb + i)).Store(rb + i);
            }
        }
        if (UseVectors && count - i >= Vector256<T>.Count)
        {
            var v0 = Vector256.Create(w0);
            var v1 = Vector256.Create(w1);
            var v2 = Vector256.Create(w2);
            var v3 = Vector256.Create(w3);
            for (; i <= count - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var u = Vector256.Load(upstream + i);
                FusedVectors.MultiplyAdd(v0, u, Vector256.Load(lt + i)).Store(lt + i);
                FusedVectors.MultiplyAdd(v1, u, Vector256.Load(rt + i)).Store(rt + i);
                FusedVectors.MultiplyAdd(v2, u, Vector256.Load(lb + i)).Store(lb + i);
                FusedVectors.MultiplyAdd(v3, u, Vector256.Load(rb + i)).Store(rb + i);
            }
        }
        for (; i < count; i++)
        {
            T u = upstream[i];
            lt[i] = T.FusedMultiplyAdd(w0, u, lt[i]);
            rt[i] = T.FusedMultiplyAdd(w1, u, rt[i]);
            lb[i] = T.FusedMultiplyAdd(w2, u, lb[i]);
            rb[i] = T.FusedMultiplyAdd(w3, u, rb[i]);
        }
    }
}
