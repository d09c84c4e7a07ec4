using DeformEngine.Cpu;

namespace DeformEngine;

/// <summary>Affine map of the last dimension: y = x·Wᵀ + b, x [..., in], W [out, in], b [out].
/// Gradients: ∂L/∂x = ∂L/∂y·W; ∂L/∂W = (∂L/∂y)ᵀ·x summed over the leading dimensions;
/// ∂L/∂b = Σ ∂L/∂y over the leading dimensions.</summary>
public static partial class Functional
{
    public static Tensor<T> Linear<T>(Tensor<T> input, Tensor<T> weight, Tensor<T>? bias = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        ShapeMath.RequireRank(nameof(weight), weight.ShapeSpan, 2, "[out_features, in_features]");
        int outFeatures = weight.ShapeArray[0], inFeatures = weight.ShapeArray[1];
        if (input.Rank < 1 || input.ShapeArray[^1] != inFeatures)
            throw new ArgumentException(
                $"input: expected shape [..., {inFeatures}] to match weight {ShapeMath.Format(weight.ShapeSpan)}, got {ShapeMath.Format(input.ShapeSpan)}.", nameof(input));
        OpArgs.RequireChannelVector(nameof(bias), bias, outFeatures);

        int rows = inFeatures == 0 ? ShapeMath.Numel(input.ShapeSpan[..^1]) : input.Numel / inFeatures;
        OpArgs.ElementCount(nameof(input), $"the output [rows of input, out_features] = [{rows}, {outFeatures}]", rows, outFeatures);
        var outShape = input.Shape;
        outShape[^1] = outFeatures;
        if (!input.Device.IsCpu) return LinearOnDevice(input, weight, bias, rows, outShape);
        var x = input.CpuData;
        var w = weight.CpuData;
        var result = new T[rows * outFeatures];
        Gemm.Multiply(false, true, rows, outFeatures, inFeatures, T.One, x, inFeatures, w, inFeatures, T.Zero, result, outFeatures);
        if (bias is not null)
        {
            var b = bias.CpuData;
            for (int r = 0; r < rows; r++)
                for (int o = 0; o < outFeatures; o++) result[r * outFeatures + o] += b[o];
        }

        return Autograd.Record(Tensor<T>.Wrap(result, outShape), "Linear", (grad, needs) =>
        {
            var g = grad.CpuData;
            Tensor<T>? gradInput = null, gradWeight = null, gradBias = null;
            if (needs[0])
            {
                var gi = new T[x.Length];
                Gemm.Multiply(false, false, rows, inFeatures, outFeatures, T.One, g, outFeatures, w, inFeatures, T.Zero, gi, inFeatures);
                gradInput = Tensor<T>.Wrap(gi, input.ShapeArray);
            }
            if (needs[1])
            {
                var gw = new T[w.Length];
                Gemm.Multiply(true, false, outFeatures, inFeatures, rows, T.One, g, outFeatures, x, inFeatures, T.Zero, gw, inFeatures);
                gradWeight = Tensor<T>.Wrap(gw, weight.ShapeArray);
            }
            if (needs[2])
            {
                var gb = new T[outFeatures];
                for (int r = 0; r < rows; r++)
                    for (int o = 0; o < outFeatures; o++) gb[o] += g[r * outFeatures + o];
                gradBias = Tensor<T>.Wrap(gb, outFeatures);
            }
            return [gradInput, gradWeight, gradBias];
        }, input, weight, bias);
    }
}
