namespace DeformEngine.Gpu;

/// <summary>The device's <see cref="ILinearBackend"/>: the three products as GEMMs (Wᵀ by a transpose flag, not
/// a copy), the bias by a broadcast add and a sum over rows.</summary>
public abstract partial class GpuDevice : ILinearBackend
{
    /// <inheritdoc />
    public Tensor<T> Linear<T>(LinearParams parameters, Tensor<T> input, Tensor<T> weight, Tensor<T>? bias)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (rows, inFeatures, outFeatures) = (parameters.Rows, parameters.InFeatures, parameters.OutFeatures);
        var output = Gemm(new GemmShape(1, rows, outFeatures, inFeatures, 0, false, 0, true), input, weight, [rows, outFeatures]);
        if (bias is not null)
            StridedBinary(BinaryFunction.Add, [rows, outFeatures], Elements(output), [outFeatures, 1], Elements(bias), [0, 1], Elements(output));
        return output;
    }

    /// <inheritdoc />
    public Tensor<T>?[] LinearBackward<T>(LinearParams parameters, Tensor<T> gradOutput, Tensor<T> input, Tensor<T> weight,
        Tensor<T>? bias, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (rows, inFeatures, outFeatures) = (parameters.Rows, parameters.InFeatures, parameters.OutFeatures);
        Tensor<T>? gradInput = null, gradWeight = null, gradBias = null;
        if (needs[0])
            gradInput = Gemm(new GemmShape(1, rows, inFeatures, outFeatures, 0, false, 0, false), gradOutput, weight, input.ShapeArray);
        if (needs[1])
            gradWeight = Gemm(new GemmShape(1, outFeatures, inFeatures, rows, 0, true, 0, false), gradOutput, input, weight.ShapeArray);
        if (bias is not null && needs[2])
        {
            gradBias = Tensor<T>.Uninitialized(this, outFeatures);
            StridedSum(Elements(gradOutput), [outFeatures], [1], [rows], [outFeatures], Elements(gradBias));
        }
        return [gradInput, gradWeight, gradBias];
    }
}
