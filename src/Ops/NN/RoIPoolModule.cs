namespace DeformEngine.NN;

/// <summary>Base of the modules that pool regions of interest: their forward takes the feature map
/// and the RoIs [K, 5] (batch index, x1, y1, x2, y2), as mmcv's <c>forward(input, rois)</c>.</summary>
public abstract class RoIPoolModule<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Pools <paramref name="rois"/> of <paramref name="input"/> [N, C, H, W].</summary>
    public abstract Tensor<T> Forward(Tensor<T> input, Tensor<T> rois);

    /// <summary>Always throws: a RoI pooling module needs the RoIs.</summary>
    public sealed override Tensor<T> Forward(Tensor<T> input) =>
        throw new NotSupportedException($"{GetType().Name[..^2]} pools regions of interest: call Forward(input, rois).");

    /// <summary>Fully connected layers (Linear, ReLU, …, Linear) from <paramref name="inFeatures"/>
    /// through <paramref name="hiddenFeatures"/> to <paramref name="outFeatures"/>, named "0", "2", …
    /// as in mmcv's <c>nn.Sequential</c>. The last Linear starts at zero (weight and bias), so the
    /// branch first predicts 0; it draws from a generator of its own so that zeroing it does not
    /// consume draws from <paramref name="random"/>.</summary>
    internal static Sequential<T> ZeroEndedFc(int inFeatures, int hiddenFeatures, int outFeatures, int layers, SeededRandom random)
    {
        var branch = new Sequential<T>();
        int features = inFeatures;
        for (int layer = 0; layer < layers - 1; layer++)
        {
            branch.Add(new Linear<T>(features, hiddenFeatures, random: random)).Add(new ReLU<T>());
            features = hiddenFeatures;
        }
        var last = new Linear<T>(features, outFeatures, random: new SeededRandom(0));
        last.Weight.AsSpan().Clear();
        last.Bias!.AsSpan().Clear();
        return branch.Add(last);
    }

    internal static void RequirePositive(string name, int value)
    {
        if (value <= 0)
            throw new ArgumentOutOfRangeException(name, value, $"{name}: expected a value ≥ 1, got {value}.");
    }

    internal static void RequireChannels(Tensor<T> input, int expected)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 4 || input.Dim(1) != expected)
            throw new ArgumentException(
                $"input: expected [N, {expected}, H, W] (the module's channels), got {ShapeMath.Format(input.ShapeSpan)}.", nameof(input));
    }
}
