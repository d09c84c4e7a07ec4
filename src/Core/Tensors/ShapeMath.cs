namespace DeformEngine;

/// <summary>Shape arithmetic shared by the tensor operations: element counts, strides,
/// broadcasting and argument checks.</summary>
public static class ShapeMath
{
    /// <summary>The shape as text, such as "[2, 3, 4]", for messages.</summary>
    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    /// <summary>Number of elements of a shape; throws when a dimension is negative or the count
    /// does not fit an array.</summary>
    public static int Numel(ReadOnlySpan<int> shape, string argumentName = "shape")
    {
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0)
                throw new ArgumentException(
                    $"{argumentName}: dimensions must be non-negative, got {Format(shape)}.", argumentName);
            count *= d;
            if (count > Array.MaxLength)
                throw new ArgumentException(
                    $"{argumentName}: {Format(shape)} has more elements than an array can hold.", argumentName);
        }
        return (int)count;
    }

    /// <summary>Row-major (C order) strides in elements: the last dimension has stride 1.</summary>
    public static int[] Strides(ReadOnlySpan<int> shape)
    {
        var strides = new int[shape.Length];
        int s = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= shape[i];
        }
        return strides;
    }

    /// <summary>Resolves a possibly negative axis against a rank.</summary>
    public static int NormalizeAxis(int axis, int rank, string argumentName = "axis")
    {
        int resolved = axis < 0 ? axis + rank : axis;
        if (resolved < 0 || resolved >= rank)
            throw new ArgumentOutOfRangeException(argumentName, axis,
                $"{argumentName} must be in [{-rank}, {rank - 1}] for a tensor of rank {rank}.");
        return resolved;
    }

    /// <summary>NumPy broadcasting of two shapes.</summary>
    public static int[] Broadcast(int[] a, int[] b, string argumentName = "other")
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i - (rank - a.Length) >= 0 ? a[i - (rank - a.Length)] : 1;
            int db = i - (rank - b.Length) >= 0 ? b[i - (rank - b.Length)] : 1;
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException(
                    $"{argumentName}: shapes {Format(a)} and {Format(b)} cannot be broadcast together.", argumentName);
            result[i] = da == 1 ? db : da;
        }
        return result;
    }

    /// <summary>Strides that read a tensor of <paramref name="shape"/> as if it had
    /// <paramref name="target"/> (0 on broadcast dimensions).</summary>
    public static int[] BroadcastStrides(int[] shape, int[] target)
    {
        var own = Strides(shape);
        var result = new int[target.Length];
        int offset = target.Length - shape.Length;
        for (int i = 0; i < shape.Length; i++)
            result[i + offset] = shape[i] == 1 ? 0 : own[i];
        return result;
    }

    /// <summary>True when the shapes have the same rank and dimensions.</summary>
    public static bool SameShape(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);

    /// <summary>Throws unless <paramref name="actual"/> equals <paramref name="expected"/>.</summary>
    public static void RequireShape(string argumentName, ReadOnlySpan<int> actual, ReadOnlySpan<int> expected)
    {
        if (!actual.SequenceEqual(expected))
            throw new ArgumentException(
                $"{argumentName}: expected shape {Format(expected)}, got {Format(actual)}.", argumentName);
    }

    /// <summary>Throws unless <paramref name="actual"/> has <paramref name="rank"/> dimensions;
    /// <paramref name="layout"/> (such as "[N, C, H, W]") names them in the message.</summary>
    /// <exception cref="ArgumentException">The rank differs; the message names <paramref name="argumentName"/>, the
    /// expected layout and the actual shape.</exception>
    public static void RequireRank(string argumentName, ReadOnlySpan<int> actual, int rank, string layout)
    {
        if (actual.Length != rank)
            throw new ArgumentException(
                $"{argumentName}: expected a {rank}-D tensor {layout}, got shape {Format(actual)}.", argumentName);
    }
}
