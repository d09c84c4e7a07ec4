using System.Numerics;
using DeformEngine.Cpu;

namespace DeformEngine.Tests.Core;

/// <summary>One GEMM test case; <paramref name="Pad"/> is added to every minimal stride.</summary>
internal readonly record struct GemmCase(bool TransA, bool TransB, int M, int N, int K, double Alpha, double Beta, int Pad)
{
    public override string ToString() =>
        $"transA={TransA} transB={TransB} m={M} n={N} k={K} alpha={Alpha} beta={Beta} pad={Pad}";
}

/// <summary>Builds operands for a <see cref="GemmCase"/> and compares GEMM results.</summary>
/// <remarks>Every element of A and B that is not part of the matrix (stride gaps, guards before
/// and after) is NaN, so an index error that reads it poisons the result. C's gaps and guards hold
/// a sentinel that must survive, so a stray write is caught too.</remarks>
internal static class GemmChecks
{
    /// <summary>Both kernels' float sums round k times, each by at most 2^-24 relative to the
    /// running magnitude, so fast and reference differ by under about 1.2e-7·k times the sum of
    /// |terms|; 1e-5 per term leaves ample margin and still flags a lost or doubled term, which
    /// is off by about 1/k relative.</summary>
    private const double FloatTolerancePerTerm = 1e-5;

    /// <summary>The same bound in double is 2.2e-16·k, below 1e-12 for every k tested.</summary>
    private const double DoubleTolerance = 1e-12;

    private const int Guard = 5;
    private const double Sentinel = 12345.0;

    public static void AssertMatchesReference<T>(GemmCase shape, int seed) where T : unmanaged, IFloatingPointIeee754<T> =>
        AssertMatchesReference<T>(shape, seed, (operands, c) => Gemm.Multiply(shape.TransA, shape.TransB, shape.M, shape.N, shape.K,
            T.CreateTruncating(shape.Alpha), operands.A, operands.Lda, operands.B, operands.Ldb,
            T.CreateTruncating(shape.Beta), operands.InnerC(c), operands.Ldc));

    public static void AssertMatchesReference<T, TKernel>(GemmCase shape, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : struct, IGemmKernel<T> =>
        AssertMatchesReference<T>(shape, seed, (operands, c) => GemmDriver.Run<T, TKernel>(
            new GemmProblem(shape.TransA, shape.TransB, shape.M, shape.N, shape.K, operands.Lda, operands.Ldb, operands.Ldc),
            T.CreateTruncating(shape.Alpha), operands.A, operands.B, T.CreateTruncating(shape.Beta), operands.InnerC(c)));

    public static void AssertThreadCountInvariant<T>(GemmCase shape, int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var operands = new Operands<T>(shape, seed);
        int saved = EngineOptions.Threads;
        try
        {
            EngineOptions.Threads = 1;
            T[] single = operands.RunFast();
            EngineOptions.Threads = 2;
            T[] dual = operands.RunFast();
            CollectionAssert.AreEqual(single, dual, $"{typeof(T).Name} {shape}");
        }
        finally
        {
            EngineOptions.Threads = saved;
        }
    }

    public static void AssertSameAsReferenceBitwise<T>(GemmCase shape, int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var operands = new Operands<T>(shape, seed);
        CollectionAssert.AreEqual(operands.RunReference(), operands.RunFast(), $"{typeof(T).Name} {shape}");
    }

    private static void AssertMatchesReference<T>(GemmCase shape, int seed, Action<Operands<T>, T[]> multiply)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var operands = new Operands<T>(shape, seed);
        T[] expected = operands.RunReference();
        T[] scale = operands.RunAbsoluteReference();
        T[] actual = operands.CopyOfC();
        multiply(operands, actual);

        double tolerance = typeof(T) == typeof(float) ? FloatTolerancePerTerm * Math.Max(1, shape.K) : DoubleTolerance;
        for (int index = 0; index < actual.Length; index++)
        {
            if (!operands.IsInC(index))
            {
                Assert.AreEqual(T.CreateTruncating(Sentinel), actual[index], $"write outside C at {index}: {typeof(T).Name} {shape}");
                continue;
            }
            double error = Math.Abs(double.CreateTruncating(actual[index] - expected[index]));
            double bound = tolerance * double.CreateTruncating(scale[index]) + double.Epsilon;
            if (!(error <= bound))
                Assert.Fail($"{typeof(T).Name} {shape}: C[{operands.RowOf(index)},{operands.ColumnOf(index)}] = {actual[index]}, "
                    + $"reference {expected[index]}, error {error:E2} > {bound:E2}");
        }
    }

    /// <summary>Stored operands of one case, each embedded in a larger array as described on
    /// <see cref="GemmChecks"/>.</summary>
    private sealed class Operands<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly GemmCase _shape;
        private readonly T[] _a, _b, _c;

        public Operands(GemmCase shape, int seed)
        {
            _shape = shape;
            var random = new Random(seed);
            (int aRows, int aColumns) = shape.TransA ? (shape.K, shape.M) : (shape.M, shape.K);
            (int bRows, int bColumns) = shape.TransB ? (shape.N, shape.K) : (shape.K, shape.N);
            Lda = Math.Max(1, aColumns) + shape.Pad;
            Ldb = Math.Max(1, bColumns) + shape.Pad;
            Ldc = Math.Max(1, shape.N) + shape.Pad;
            _a = Build(random, aRows, aColumns, Lda, T.NaN);
            _b = Build(random, bRows, bColumns, Ldb, T.NaN);
            _c = Build(random, shape.M, shape.N, Ldc, T.CreateTruncating(Sentinel));
            // beta = 0 must overwrite C without reading it.
            if (shape.Beta == 0)
                for (int index = 0; index < _c.Length; index++)
                    if (IsInC(index))
                        _c[index] = T.NaN;
        }

        public int Lda { get; }
        public int Ldb { get; }
        public int Ldc { get; }
        public ReadOnlySpan<T> A => Inner(_a);
        public ReadOnlySpan<T> B => Inner(_b);

        public T[] CopyOfC() => (T[])_c.Clone();

        /// <summary>The part of a copy of C that is handed to GEMM.</summary>
        public Span<T> InnerC(T[] c) => c.AsSpan(Guard, c.Length - 2 * Guard);

        public bool IsInC(int index)
        {
            int offset = index - Guard;
            return offset >= 0 && offset < _shape.M * Ldc && offset % Ldc < _shape.N;
        }

        public int RowOf(int index) => (index - Guard) / Ldc;
        public int ColumnOf(int index) => (index - Guard) % Ldc;

        public T[] RunFast() => Run(Gemm.Multiply, A, B, T.CreateTruncating(_shape.Alpha), T.CreateTruncating(_shape.Beta), CopyOfC());

        public T[] RunReference() =>
            Run(Gemm.MultiplyReference, A, B, T.CreateTruncating(_shape.Alpha), T.CreateTruncating(_shape.Beta), CopyOfC());

        /// <summary>|alpha|·|op(A)|·|op(B)| + |beta|·|C|: the magnitude the rounding errors scale with.</summary>
        public T[] RunAbsoluteReference()
        {
            T[] c = CopyOfC();
            for (int index = 0; index < c.Length; index++)
                c[index] = T.Abs(c[index]);
            return Run(Gemm.MultiplyReference, Absolute(_a), Absolute(_b),
                T.Abs(T.CreateTruncating(_shape.Alpha)), T.Abs(T.CreateTruncating(_shape.Beta)), c);
        }

        private delegate void Multiply(bool transA, bool transB, int m, int n, int k, T alpha,
            ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc);

        private T[] Run(Multiply multiply, ReadOnlySpan<T> a, ReadOnlySpan<T> b, T alpha, T beta, T[] c)
        {
            multiply(_shape.TransA, _shape.TransB, _shape.M, _shape.N, _shape.K, alpha, a, Lda, b, Ldb, beta, InnerC(c), Ldc);
            return c;
        }

        private static ReadOnlySpan<T> Inner(T[] stored) => stored.AsSpan(Guard, stored.Length - 2 * Guard);

        private ReadOnlySpan<T> Absolute(T[] stored)
        {
            var result = new T[stored.Length];
            for (int index = 0; index < stored.Length; index++)
                result[index] = T.Abs(stored[index]);
            return Inner(result);
        }

        /// <summary>rows×columns values in [-1, 1) at the given stride, with
        /// <paramref name="filler"/> in the gaps and the guards; the span handed to GEMM is exactly
        /// the minimal length, so the guards sit right outside it.</summary>
        private static T[] Build(Random random, int rows, int columns, int stride, T filler)
        {
            int length = rows == 0 || columns == 0 ? 0 : (rows - 1) * stride + columns;
            var stored = new T[length + 2 * Guard];
            Array.Fill(stored, filler);
            for (int row = 0; row < rows; row++)
                for (int column = 0; column < columns; column++)
                    stored[Guard + row * stride + column] = T.CreateTruncating(random.NextDouble() * 2 - 1);
            return stored;
        }
    }
}
