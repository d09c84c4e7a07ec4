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
    /// <summary>The one instance, which <see cref="OperatorBackends"/> returns for CPU tensors unless
    /// <see cref="EngineOptions.UseReferenceKernels"/>.</summary>
    public static new CpuFastBackend Instance { get; } = new();

    private CpuFastBackend()
    {
    }

    /// <summary>The backend's name in messages and benchmark tables: "cpu-fast".</summary>
    public override string Name => "cpu-fast";
}
