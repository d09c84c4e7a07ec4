namespace DeformEngine.NN;

/// <summary>max(x, 0) elementwise.</summary>
public sealed class ReLU<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>max(x, 0) elementwise; any shape.</summary>
    public override Tensor<T> Forward(Tensor<T> input) => input.Relu();
}

/// <summary>Collapses dimensions <c>startDim</c>.. into one ([N, C, H, W] → [N, C·H·W] by default).</summary>
public sealed class Flatten<T>(int startDim = 1) : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The first dimension collapsed (negative counts from the end); the ones before it are kept.</summary>
    public int StartDim { get; } = startDim;

    /// <summary>[d0, …, d_start, …, d_last] → [d0, …, d_start·…·d_last].</summary>
    public override Tensor<T> Forward(Tensor<T> input) => input.Flatten(StartDim);
}

/// <summary>Inverted dropout with its own seeded generator, active in training mode only.</summary>
public sealed class Dropout<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly SeededRandom _random;

    /// <summary>A dropout layer that drops with probability <paramref name="p"/>, its mask drawn from a generator
    /// seeded with <paramref name="seed"/>.</summary>
    /// <param name="p">Probability of dropping an element, in [0, 1].</param>
    /// <param name="seed">Seed of the layer's own generator: the same seed gives the same masks on every
    /// machine.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is outside [0, 1].</exception>
    public Dropout(double p = 0.5, long seed = 0)
    {
        if (!(p >= 0 && p <= 1))
            throw new ArgumentOutOfRangeException(nameof(p), p, "p: expected a drop probability in [0, 1].");
        P = p;
        _random = new SeededRandom(seed);
    }

    /// <summary>Probability of dropping an element, in [0, 1].</summary>
    public double P { get; }

    /// <summary>In training, x·mask/(1 − <see cref="P"/>) with a fresh mask per call; in evaluation, x
    /// unchanged.</summary>
    public override Tensor<T> Forward(Tensor<T> input) => Functional.Dropout(input, P, Training, _random);
}

/// <summary>1 / (1 + e^(−x)) elementwise.</summary>
public sealed class Sigmoid<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>σ(x) = 1/(1 + e⁻ˣ) elementwise; any shape.</summary>
    public override Tensor<T> Forward(Tensor<T> input) => input.Sigmoid();
}
