using DeformEngine.Kernels;

namespace DeformEngine;

/// <summary>The reference <see cref="IGeluBackend"/>: <see cref="GaussianFunctions"/> in double for both
/// precisions, rounded once to the element type.</summary>
public partial class CpuReferenceBackend : IGeluBackend
{
    /// <inheritdoc />
    public virtual Tensor<T> Gelu<T>(Tensor<T> input) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = input.CpuData;
        var result = new T[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double value = double.CreateChecked(x[i]);
            result[i] = T.CreateChecked(value * GaussianFunctions.NormalCdf(value));
        }
        return Tensor<T>.Wrap(result, input.ShapeArray);
    }

    /// <inheritdoc />
    public virtual Tensor<T> GeluBackward<T>(Tensor<T> gradOutput, Tensor<T> input) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = input.CpuData;
        var g = gradOutput.CpuData;
        var result = new T[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double value = double.CreateChecked(x[i]);
            // NOTE: d/dx (x·Φ(x)) = Φ(x) + x·φ(x) since Φ' = φ.
            double slope = GaussianFunctions.NormalCdf(value) + value * GaussianFunctions.NormalPdf(value);
            result[i] = g[i] * T.CreateChecked(slope);
        }
        return Tensor<T>.Wrap(result, input.ShapeArray);
    }
}
