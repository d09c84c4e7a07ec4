namespace DeformEngine;

/// <summary>
/// The CPU fast backend (the default): blocked GEMM with Vector256/Vector512 micro-kernels, vectorised
/// channels-last sampling kernels, threads over independent work with a fixed partition and reduction
/// order (results do not depend on <see cref="EngineOptions.Threads"/>), workspace bounded by
/// <see cref="EngineOptions.WorkspaceBytes"/>. It overrides the operators it has faster kernels for
/// (<c>Ops/&lt;Operator&gt;/CpuFastBackend.&lt;Operator&gt;.cs</c>); the others run the reference loops it inherits.
/// </summary>
public sealed partial class CpuFastBackend : CpuReferenceBackend
{
    public static new CpuFastBackend Instance { get; } = new();

    private CpuFastBackend()
    {
    }

    public override string Name => "cpu-fast";
}
