using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DeformEngine.Benchmarks;

/// <summary>Which vector ISA this process runs: every benchmark prints it, because the engine picks
/// its GEMM kernel at run time (Vector512 where accelerated, else Vector256) and
/// <c>DOTNET_EnableAVX512=0</c> makes an AVX-512 machine run as an AVX2 one.</summary>
public static class IsaReport
{
    public static string Isa => Vector512.IsHardwareAccelerated ? "AVX-512" : Avx2.IsSupported ? "AVX2" : "no AVX2";

    public static string Describe() =>
        $"ISA {Isa} (Vector512 accelerated {Vector512.IsHardwareAccelerated}, AVX-512F {Avx512F.IsSupported}, AVX2 {Avx2.IsSupported}, FMA {Fma.IsSupported}), " +
        $".NET {Environment.Version}, {Environment.ProcessorCount} cores{LoadAverage()}";

    /// <summary>The 1-minute load average where Linux reports it: other processes on the cores
    /// depress every wall-clock number, and this says by how much to distrust them.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? $", load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}" : "";
}
