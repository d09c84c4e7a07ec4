namespace DeformEngine;

/// <summary>Operations that rearrange elements: reshape, permute, concatenate, slice.</summary>
public sealed partial class Tensor<T>
{
    /// <summary>Same data, new shape; one dimension may be −1 (inferred).</summary>
    public Tensor<T> Reshape(params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var resolved = (int[])shape.Clone();
        int infer = Array.IndexOf(resolved, -1);
        if (infer >= 0)
        {
            resolved[infer] = 1;
            int known = ShapeMath.Numel(resolved, nameof(shape));
            if (known == 0 || Numel % known != 0)
                throw new ArgumentException(
                    $"shape: cannot infer −1 in {ShapeMath.Format(shape)} for {Numel} elements (shape {ShapeMath.Format(_shape)}).", nameof(shape));
            resolved[infer] = Numel / known;
        }
        if (ShapeMath.Numel(resolved, nameof(shape)) != Numel)
            throw new ArgumentException(
                $"shape: cannot reshape {ShapeMath.Format(_shape)} ({Numel} elements) to {ShapeMath.Format(shape)}.", nameof(shape));
        var output = View(resolved);
        var original = _shape;
        return Autograd.Record(output, "Reshape", (g, _) => [g.Reshape(original)], this);
    }

    /// <summary>Collapses dimensions from <paramref name="startAxis"/> on into one.</summary>
    public Tensor<T> Flatten(int startAxis = 1)
    {
        int start = ShapeMath.NormalizeAxis(startAxis, _shape.Length, nameof(startAxis));
        var shape = new int[start + 1];
        Array.Copy(_shape, shape, start);
        // The product of the collapsed dimensions, not −1: an empty batch [0, C, H, W] flattens to
        // [0, C·H·W] as in PyTorch (−1 cannot be inferred from 0 elements).
        shape[start] = ShapeMath.Numel(_shape.AsSpan(start), nameof(startAxis));
        return Reshape(shape);
    }

    /// <summary>Swaps dimensions <paramref name="axis0"/> and <paramref name="axis1"/> (negative counts from the end);
    /// the result is a contiguous copy.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An axis is outside [−Rank, Rank).</exception>
    public Tensor<T> Transpose(int axis0, int axis1)
    {
        int a = ShapeMath.NormalizeAxis(axis0, _shape.Length, nameof(axis0));
        int b = ShapeMath.NormalizeAxis(axis1, _shape.Length, nameof(axis1));
        var perm = Enumerable.Range(0, _shape.Length).ToArray();
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return Permute(perm);
    }

    /// <summary>Result dimension i is input dimension perm[i].</summary>
    public Tensor<T> Permute(params int[] perm)
    {
        ArgumentNullException.ThrowIfNull(perm);
        int rank = _shape.Length;
        if (perm.Length != rank || perm.Any(p => p < 0 || p >= rank) || perm.Distinct().Count() != rank)
            throw new ArgumentException(
                $"perm: expected a permutation of 0..{rank - 1}, got {ShapeMath.Format(perm)}.", nameof(perm));
        var inverse = new int[rank];
        for (int i = 0; i < rank; i++) inverse[perm[i]] = i;
        return Autograd.Record(Backend.Permute(this, perm), "Permute", (g, _) => [g.Permute(inverse)], this);
    }

    /// <summary>Joins tensors along <paramref name="axis"/>; other dimensions must agree.</summary>
    public static Tensor<T> Cat(Tensor<T>[] tensors, int axis = 0)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Length == 0) throw new ArgumentException("tensors: need at least one tensor.", nameof(tensors));
        var first = tensors[0]._shape;
        int ax = ShapeMath.NormalizeAxis(axis, first.Length, nameof(axis));
        int total = 0;
        foreach (var t in tensors)
        {
            RequireSameDevice(tensors[0], t, nameof(tensors));
            bool ok = t._shape.Length == first.Length;
            for (int d = 0; ok && d < first.Length; d++) ok = d == ax || t._shape[d] == first[d];
            if (!ok)
                throw new ArgumentException(
                    $"tensors: all shapes must match {ShapeMath.Format(first)} except on axis {ax}, got {ShapeMath.Format(t._shape)}.", nameof(tensors));
            total += t._shape[ax];
        }
        var outShape = (int[])first.Clone();
        outShape[ax] = total;
        var output = tensors[0].Backend.Cat(tensors, ax, outShape);
        return Autograd.Record(output, "Cat", (g, needs) =>
        {
            var grads = new Tensor<T>?[tensors.Length];
            int offset = 0;
            for (int i = 0; i < tensors.Length; i++)
            {
                int size = tensors[i]._shape[ax];
                if (needs[i]) grads[i] = g.Slice(ax, offset, size);
                offset += size;
            }
            return grads;
        }, tensors);
    }

    /// <summary>Elements <paramref name="start"/> .. start+length−1 along <paramref name="axis"/>.</summary>
    public Tensor<T> Slice(int axis, int start, int length)
    {
        int ax = ShapeMath.NormalizeAxis(axis, _shape.Length, nameof(axis));
        if (start < 0 || length < 0 || start + length > _shape[ax])
            throw new ArgumentOutOfRangeException(nameof(start),
                $"slice [{start}, {start + length}) does not fit axis {ax} of size {_shape[ax]} (shape {ShapeMath.Format(_shape)}).");
        var shape = _shape;
        return Autograd.Record(Backend.Slice(this, ax, start, length), "Slice",
            (g, _) => [g.Backend.SliceBackward(g, shape, ax, start)], this);
    }

    /// <summary>The same storage under another shape of as many elements, unrecorded.</summary>
    internal Tensor<T> View(int[] shape) =>
        _data is not null ? new Tensor<T>(_data, shape, _version) : new Tensor<T>(_buffer!, shape, _version);
}
