namespace DeformEngine.NN;

/// <summary>max(x, 0) elementwise.</summary>
public sealed class ReLU<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public override Tensor<T> Forward(Tensor<T> input) => input.Relu();
}

/// <summary>Collapses dimensions <c>startDim</c>.. into one ([N, C, H, W] → [N, C·H·W] by default).</summary>
public sealed class Flatten<T>(int startDim = 1) : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public int StartDim { get; } = startDim;

    public override Tensor<T> Forward(Tensor<T> input) => input.Flatten(StartDim);
}

/// <summary>Inverted dropout with its own seeded generator, active in training mode only.</summary>
public sealed class Dropout<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly SeededRandom _random;

    public Dropout(double p = 0.5, long seed = 0)
    {
        if (!(p >= 0 && p <= 1))
            throw new ArgumentOutOfRangeException(nameof(p), p, "p: expected a drop probability in [0, 1].");
        P = p;
        _random = new SeededRandom(seed);
    }

    public double P { get; }

    public override Tensor<T> Forward(Tensor<T> input) => Functional.Dropout(input, P, Training, _random);
}

/// <summary>1 / (1 + e^(−x)) elementwise.</summary>
public sealed class Sigmoid<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public override Tensor<T> Forward(Tensor<T> input) => input.Sigmoid();
}
