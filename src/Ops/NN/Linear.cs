namespace DeformEngine.NN;

/// <summary>y = x·Wᵀ + b with W [out, in] (<c>weight</c>) and b [out] (<c>bias</c>), PyTorch's init
/// U(−1/√in, 1/√in) for both.</summary>
public sealed class Linear<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>An affine map of <paramref name="inFeatures"/> to <paramref name="outFeatures"/> features with freshly
    /// initialised weights.</summary>
    /// <param name="inFeatures">Size of the input's last dimension.</param>
    /// <param name="outFeatures">Size of the output's last dimension.</param>
    /// <param name="bias">Learn a bias [out].</param>
    /// <param name="random">The generator of the initial values; null for the shared default generator.</param>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive feature count.</exception>
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

    /// <summary>Size of the input's last dimension.</summary>
    public int InFeatures { get; }
    /// <summary>Size of the output's last dimension.</summary>
    public int OutFeatures { get; }
    /// <summary>W [out, in] (<c>weight</c>).</summary>
    public Parameter<T> Weight { get; }
    /// <summary>b [out] (<c>bias</c>), or null without a bias.</summary>
    public Parameter<T>? Bias { get; }

    /// <summary>[..., in] → [..., out].</summary>
    public override Tensor<T> Forward(Tensor<T> input) => Functional.Linear(input, Weight, Bias?.Value);
}
