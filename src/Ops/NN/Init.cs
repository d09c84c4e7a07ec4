namespace DeformEngine.NN;

/// <summary>Seeded weight initialisers with PyTorch's formulas. A module built without an explicit
/// generator draws from <see cref="DefaultRandom"/>, seeded by <see cref="ManualSeed"/> (like
/// <c>torch.manual_seed</c>), so a model built in the same order is the same on every machine.</summary>
public static class Init
{
    private static readonly Lock Gate = new();
    private static SeededRandom _default = new(0);

    /// <summary>Reseeds the generator used by modules built without one.</summary>
    public static void ManualSeed(long seed)
    {
        lock (Gate) _default = new SeededRandom(seed);
    }

    /// <summary>The process-wide generator (not thread-safe: pass your own when building modules on
    /// several threads).</summary>
    public static SeededRandom DefaultRandom
    {
        get
        {
            lock (Gate) return _default;
        }
    }

    /// <summary>Values drawn uniformly from [−bound, bound).</summary>
    public static Tensor<T> Uniform<T>(SeededRandom random, double bound, params int[] shape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(random);
        var tensor = Tensor<T>.Zeros(shape);
        var data = tensor.AsSpan();
        for (int i = 0; i < data.Length; i++) data[i] = T.CreateChecked((2 * random.NextDouble() - 1) * bound);
        return tensor;
    }

    /// <summary>Normal values with mean 0 and standard deviation <paramref name="std"/>.</summary>
    public static Tensor<T> Normal<T>(SeededRandom random, double std, params int[] shape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(random);
        var tensor = Tensor<T>.Zeros(shape);
        var data = tensor.AsSpan();
        for (int i = 0; i < data.Length; i++) data[i] = T.CreateChecked(random.NextNormal() * std);
        return tensor;
    }

    /// <summary>PyTorch's default for Linear and Conv2d weights, kaiming_uniform_ with a = √5:
    /// U(−1/√fanIn, 1/√fanIn), fanIn = shape[1]·(product of the remaining dimensions).</summary>
    public static Tensor<T> DefaultWeight<T>(SeededRandom random, params int[] shape)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Uniform<T>(random, 1 / Math.Sqrt(FanIn(shape)), shape);

    /// <summary>kaiming_normal_(mode = 'fan_out', nonlinearity = 'relu'), torchvision's ResNet
    /// convolution init: N(0, 2/fanOut), fanOut = shape[0]·kh·kw.</summary>
    public static Tensor<T> KaimingNormalFanOut<T>(SeededRandom random, params int[] shape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int receptive = 1;
        for (int d = 2; d < shape.Length; d++) receptive *= shape[d];
        return Normal<T>(random, Math.Sqrt(2.0 / Math.Max(shape[0] * receptive, 1)), shape);
    }

    /// <summary>xavier_uniform_ with gain 1, the projections' init of DCNv3 and DCNv4: U(−a, a) with
    /// a = √(6/(fanIn + fanOut)), fanIn = shape[1]·receptive, fanOut = shape[0]·receptive.</summary>
    public static Tensor<T> XavierUniform<T>(SeededRandom random, params int[] shape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int receptive = 1;
        for (int d = 2; d < shape.Length; d++) receptive *= shape[d];
        int fanOut = shape[0] * receptive;
        return Uniform<T>(random, Math.Sqrt(6.0 / Math.Max(FanIn(shape) + fanOut, 1)), shape);
    }

    internal static int FanIn(int[] shape)
    {
        int fan = shape.Length > 1 ? shape[1] : 1;
        for (int d = 2; d < shape.Length; d++) fan *= shape[d];
        return Math.Max(fan, 1);
    }
}
