namespace DeformEngine;

/// <summary>The device side of broadcasting, reductions along axes, Permute, Cat, Slice, Softmax
/// and MatMul: the same shapes and the same backward graphs as on the CPU, run through the strided
/// primitives of <see cref="Device"/> (Device.Tensors.cs).</summary>
public sealed partial class Tensor<T>
{
    private static Tensor<T> DeviceBroadcastBinary(Tensor<T> a, Tensor<T> b, int[] shape, DeviceBinaryOp op)
    {
        var result = Uninitialized(a.Device, shape);
        a.Device.StridedBinary<T>(op, shape, a._buffer!, ShapeMath.BroadcastStrides(a._shape, shape),
            b._buffer!, ShapeMath.BroadcastStrides(b._shape, shape), result._buffer!);
        return result;
    }

    /// <summary>Sums a broadcast gradient back to <paramref name="shape"/>: every dimension that
    /// broadcasting added or stretched from 1 is reduced, in the CPU's (row-major) order.</summary>
    private Tensor<T> DeviceSumToShape(int[] shape)
    {
        int added = _shape.Length - shape.Length;
        var strides = ShapeMath.Strides(_shape);
        List<int> keptShape = [], keptStrides = [], reducedShape = [], reducedStrides = [];
        for (int d = 0; d < _shape.Length; d++)
        {
            bool reduced = _shape[d] != 1 && (d < added || shape[d - added] == 1);
            (reduced ? reducedShape : keptShape).Add(_shape[d]);
            (reduced ? reducedStrides : keptStrides).Add(strides[d]);
        }
        var result = Uninitialized(Device, shape);
        Device.StridedSum<T>(_buffer!, [.. keptShape], [.. keptStrides], [.. reducedShape], [.. reducedStrides], result._buffer!);
        return result;
    }

    private Tensor<T> DeviceSumAlongAxis(int axis, bool keepDim)
    {
        var (outer, size, inner) = Split(axis);
        var kept = (int[])_shape.Clone();
        kept[axis] = 1;
        var result = Uninitialized(Device, keepDim ? kept : RemoveAxis(_shape, axis));
        Device.StridedSum<T>(_buffer!, [outer, inner], [size * inner, 1], [size], [inner], result._buffer!);
        var shape = _shape;
        return Autograd.Record(result, "SumAxis", (g, _) =>
        {
            // Broadcasting the kept-dim gradient back over the axis (stride 0 along it).
            var expanded = Uninitialized(g.Device, shape);
            g.Device.StridedCopy<T>([outer, size, inner], g._buffer!, 0, [inner, 0, 1], expanded._buffer!, 0, [size * inner, inner, 1]);
            return [expanded];
        }, this);
    }

    private Tensor<T> DevicePermute(int[] perm, int[] outShape)
    {
        var sourceStrides = ShapeMath.Strides(_shape);
        var gather = new int[perm.Length];
        var inverse = new int[perm.Length];
        for (int i = 0; i < perm.Length; i++)
        {
            gather[i] = sourceStrides[perm[i]];
            inverse[perm[i]] = i;
        }
        var result = Uninitialized(Device, outShape);
        Device.StridedCopy<T>(outShape, _buffer!, 0, gather, result._buffer!, 0, ShapeMath.Strides(outShape));
        return Autograd.Record(result, "Permute", (g, _) => [g.Permute(inverse)], this);
    }

    /// <summary>The forward of Cat: each tensor copied into its slab of the result.</summary>
    private static Tensor<T> DeviceCat(Tensor<T>[] tensors, int axis, int[] outShape)
    {
        var device = tensors[0].Device;
        var result = Uninitialized(device, outShape);
        var outStrides = ShapeMath.Strides(outShape);
        long start = 0;
        foreach (var t in tensors)
        {
            device.StridedCopy<T>(t._shape, t._buffer!, 0, ShapeMath.Strides(t._shape), result._buffer!, start * outStrides[axis], outStrides);
            start += t._shape[axis];
        }
        return result;
    }

    private Tensor<T> DeviceSlice(int axis, int start, int length)
    {
        var (outer, size, inner) = Split(axis);
        var outShape = (int[])_shape.Clone();
        outShape[axis] = length;
        int[] rows = [outer, length * inner], sliceStrides = [length * inner, 1], sourceStrides = [size * inner, 1];
        long sliceOffset = (long)start * inner;
        var result = Uninitialized(Device, outShape);
        Device.StridedCopy<T>(rows, _buffer!, sliceOffset, sourceStrides, result._buffer!, 0, sliceStrides);
        var shape = _shape;
        return Autograd.Record(result, "Slice", (g, _) =>
        {
            var grad = ZerosOn(g.Device, shape);
            g.Device.StridedCopy<T>(rows, g._buffer!, 0, sliceStrides, grad._buffer!, sliceOffset, sourceStrides);
            return [grad];
        }, this);
    }

    private Tensor<T> DeviceSoftmax(int axis, bool log)
    {
        var (outer, size, inner) = Split(axis);
        var result = Uninitialized(Device, _shape);
        Device.Softmax<T>(_buffer!, result._buffer!, outer, size, inner, log);
        return result;
    }

    /// <summary>MatMul on the device: the batch as strided GEMMs; ∂L/∂B of a shared right operand is one
    /// GEMM over the stacked batch, [batch·m, k]ᵀ · [batch·m, n].</summary>
    private Tensor<T> DeviceMatMul(Tensor<T> other, int batch, int m, int n, int k, bool sharedRight, int[] outShape)
    {
        RequireSameDevice(this, other, nameof(other));
        var device = Device;
        long strideB = sharedRight ? 0 : (long)k * n;
        var result = Uninitialized(device, outShape);
        device.MatMul<T>(batch, m, n, k, _buffer!, (long)m * k, false, other._buffer!, strideB, false, result._buffer!, (long)m * n);
        var left = this;
        return Autograd.Record(result, "MatMul", (g, needs) =>
        {
            Tensor<T>? ga = null, gb = null;
            if (needs[0])
            {
                // dA = dC · Bᵀ
                ga = Uninitialized(device, left._shape);
                device.MatMul<T>(batch, m, k, n, g._buffer!, (long)m * n, false, other._buffer!, strideB, true, ga._buffer!, (long)m * k);
            }
            if (needs[1])
            {
                // dB = Aᵀ · dC, summed over the batch when B is shared.
                gb = Uninitialized(device, other._shape);
                if (sharedRight)
                    device.MatMul<T>(1, k, n, batch * m, left._buffer!, 0, true, g._buffer!, 0, false, gb._buffer!, 0);
                else
                    device.MatMul<T>(batch, k, n, m, left._buffer!, (long)m * k, true, g._buffer!, (long)m * n, false, gb._buffer!, (long)k * n);
            }
            return [ga, gb];
        }, this, other);
    }
}
