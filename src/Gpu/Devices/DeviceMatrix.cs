namespace DeformEngine.Gpu;

/// <summary>One operand of <see cref="GpuDevice.BatchedGemm{T}"/>: for batch entry (outer, inner) a row-major
/// matrix that starts <c>Offset + outer·StrideOuter + inner·StrideInner</c> elements into
/// <see cref="Buffer"/>, with leading dimension <see cref="Ld"/>. <see cref="Transposed"/> makes the
/// product use the matrix's transpose (the operand of C is never transposed).</summary>
internal readonly record struct DeviceMatrix(
    DeviceBuffer Buffer, long Offset, int Ld, long StrideOuter = 0, long StrideInner = 0, bool Transposed = false);
