namespace DeformEngine.NN;

/// <summary>y = x·Wᵀ + b with W [out, in] (<c>weight</c>) and b [out] (<c>bias</c>), PyTorch's init
/// U(−1/√in, 1/√in) for both.</summary>
public sealed class Linear<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public Linear(int inFeatures, int outFeatures, bool bias = true, SeededRandom? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
        random ??= Init.DefaultRandom;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = RegisterParameter("weight", Init.DefaultWeight<T>(random, outFeatures, inFeatures));
        if (bias) Bias = RegisterParameter("bias", Init.Uniform<T>(random, 1 / Math.Sqrt(inFeatures), outFeatures));
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public Parameter<T> Weight { get; }
    public Parameter<T>? Bias { get; }

    public override Tensor<T> Forward(Tensor<T> input) => Functional.Linear(input, Weight, Bias?.Value);
}
