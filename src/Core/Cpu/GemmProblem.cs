namespace DeformEngine.Cpu;

/// <summary>Shape and layout of one validated GEMM call (see <see cref="Gemm.Multiply{T}"/>).</summary>
internal readonly record struct GemmProblem(bool TransA, bool TransB, int M, int N, int K, int Lda, int Ldb, int Ldc);
