using System.Runtime.CompilerServices;

namespace DeformEngine.Gpu;

/// <summary>The three grouped products of a (deformable) convolution on a chunk of column
/// matrices, as batched GEMMs (outer = image, inner = group).</summary>
internal readonly struct GpuConvProducts(Conv2dParams cp)
{
    private readonly int _outPerGroup = cp.OutChannels / cp.Groups;
    private readonly int _rowsPerGroup = cp.ColumnRows / cp.Groups;
    private readonly int _cols = cp.ColumnCols;
    private readonly int _groups = cp.Groups;

    public long ColumnsPerImage => (long)cp.ColumnRows * cp.ColumnCols;

    /// <summary>Images per chunk so that <paramref name="buffers"/> column buffers of a chunk stay within
    /// <see cref="EngineOptions.WorkspaceBytes"/> (at least one image).</summary>
    public int ImagesPerChunk<T>(int buffers) where T : unmanaged =>
        (int)Math.Clamp(EngineOptions.WorkspaceBytes / Math.Max(buffers * ColumnsPerImage * Unsafe.SizeOf<T>(), 1), 1, Math.Max(cp.Batch, 1));

    private long OutputPerImage => (long)cp.OutChannels * _cols;

    /// <summary>out[n]_g = W_g · columns[n]_g.</summary>
    public void Forward<T>(GpuDevice device, DeviceBuffer weight, DeviceBuffer columns, DeviceBuffer output, int first, int images)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        device.BatchedGemm(_outPerGroup, _cols, _rowsPerGroup, images, _groups,
            new DeviceMatrix(weight, 0, _rowsPerGroup, 0, (long)_outPerGroup * _rowsPerGroup),
            new DeviceMatrix(columns, 0, _cols, ColumnsPerImage, (long)_rowsPerGroup * _cols),
            T.Zero,
            new DeviceMatrix(output, first * OutputPerImage, _cols, OutputPerImage, (long)_outPerGroup * _cols));

    /// <summary>gradWeight_g += gradOut[n]_g · columns[n]_gᵀ, one image after another.</summary>
    public void GradWeight<T>(GpuDevice device, DeviceBuffer gradOut, DeviceBuffer columns, DeviceBuffer gradWeight, int first, int images)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < images; i++)
            device.BatchedGemm(_outPerGroup, _rowsPerGroup, _cols, 1, _groups,
                new DeviceMatrix(gradOut, (first + i) * OutputPerImage, _cols, 0, (long)_outPerGroup * _cols),
                new DeviceMatrix(columns, i * ColumnsPerImage, _cols, 0, (long)_rowsPerGroup * _cols, Transposed: true),
                T.One,
                new DeviceMatrix(gradWeight, 0, _rowsPerGroup, 0, (long)_outPerGroup * _rowsPerGroup));
    }

    /// <summary>gradColumns[n]_g = W_gᵀ · gradOut[n]_g.</summary>
    public void GradColumns<T>(GpuDevice device, DeviceBuffer weight, DeviceBuffer gradOut, DeviceBuffer gradColumns, int first, int images)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        device.BatchedGemm(_rowsPerGroup, _cols, _outPerGroup, images, _groups,
            new DeviceMatrix(weight, 0, _rowsPerGroup, 0, (long)_outPerGroup * _rowsPerGroup, Transposed: true),
            new DeviceMatrix(gradOut, first * OutputPerImage, _cols, OutputPerImage, (long)_outPerGroup * _cols),
            T.Zero,
            new DeviceMatrix(gradColumns, 0, _cols, ColumnsPerImage, (long)_rowsPerGroup * _cols));
}
