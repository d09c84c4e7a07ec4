namespace DeformEngine;

/// <summary>Inverted dropout: in training each element is kept with probability 1 − p and scaled by
/// 1/(1 − p), else zeroed, so the expectation is unchanged; outside training it is the identity.
/// Gradient: ∂L/∂x = ∂L/∂y · (mask / (1 − p)) with the mask of the forward. The mask comes from
/// <c>random</c>, so a seeded generator gives the same mask on every machine.</summary>
public static partial class Functional
{
    /// <summary>y = x·mask/(1 − p) with mask ~ Bernoulli(1 − p) in training; x itself otherwise.</summary>
    /// <param name="input">Any shape.</param>
    /// <param name="p">Probability of dropping an element, in [0, 1].</param>
    /// <param name="training">Drop (true) or pass the input through unchanged (false).</param>
    /// <param name="random">The generator the mask is drawn from, one draw per element.</param>
    /// <returns>A tensor of the input's shape (the input itself outside training or for p = 0).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is outside [0, 1].</exception>
    public static Tensor<T> Dropout<T>(Tensor<T> input, double p, bool training, SeededRandom random)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(random);
        if (!(p >= 0 && p <= 1))
            throw new ArgumentOutOfRangeException(nameof(p), p, "p: expected a drop probability in [0, 1].");
        if (!training || p == 0) return input;

        // NOTE: with p = 1 every element is dropped; the scale is then irrelevant and is kept at 0
        // instead of the infinite 1/(1 − p).
        T keptScale = p == 1 ? T.Zero : T.One / T.CreateChecked(1 - p);
        var scale = new T[input.Numel];
        for (int i = 0; i < scale.Length; i++) scale[i] = random.NextDouble() < p ? T.Zero : keptScale;
        // The mask is drawn on the host from the seeded generator on every device, so that a seed gives
        // the same mask everywhere; the product (and its gradient, mask ⊙ ∂L/∂y) is the tensor Mul's.
        var mask = Tensor<T>.Wrap(scale, input.ShapeArray).To(input.Device);
        return input.Mul(mask);
    }
}
