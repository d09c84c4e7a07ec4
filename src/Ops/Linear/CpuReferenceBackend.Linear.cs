using DeformEngine.Cpu;

namespace DeformEngine;

/// <summary>The reference <see cref="ILinearBackend"/>: the three products as blocked GEMMs on [rows, features]
/// (Wᵀ by a transpose flag, not a copy).</summary>
public partial class CpuReferenceBackend : ILinearBackend
{
    /// <inheritdoc />
    public virtual Tensor<T> Linear<T>(LinearParams parameters, Tensor<T> input, Tensor<T> weight, Tensor<T>? bias)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (rows, inFeatures, outFeatures) = (parameters.Rows, parameters.InFeatures, parameters.OutFeatures);
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

        return Tensor<T>.Wrap(result, rows, outFeatures);
    }

    /// <inheritdoc />
    public virtual Tensor<T>?[] LinearBackward<T>(LinearParams parameters, Tensor<T> gradOutput, Tensor<T> input, Tensor<T> weight,
        Tensor<T>? bias, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (rows, inFeatures, outFeatures) = (parameters.Rows, parameters.InFeatures, parameters.OutFeatures);
        var x = input.CpuData;
        var w = weight.CpuData;
        var g = gradOutput.CpuData;
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
        if (bias is not null && needs[2])
        {
            var gb = new T[outFeatures];
            for (int r = 0; r < rows; r++)
                for (int o = 0; o < outFeatures; o++) gb[o] += g[r * outFeatures + o];
            gradBias = Tensor<T>.Wrap(gb, outFeatures);
        }
        return [gradInput, gradWeight, gradBias];
    }
}
