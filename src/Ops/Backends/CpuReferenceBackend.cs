namespace DeformEngine;

/// <summary>
/// The CPU reference backend: every operator as the plain loops the docs quote, in both precisions,
/// image by image, with no workspace tricks. Every faster backend is tested against it. Selected by
/// <see cref="EngineOptions.UseReferenceKernels"/>. Its operator contracts are implemented in partial
/// files beside each operator (<c>Ops/&lt;Operator&gt;/CpuReferenceBackend.&lt;Operator&gt;.cs</c>), as virtual
/// methods that <see cref="CpuFastBackend"/> overrides where it has a faster kernel.
/// </summary>
public partial class CpuReferenceBackend
{
    /// <summary>The one instance, which <see cref="OperatorBackends"/> returns for CPU tensors when
    /// <see cref="EngineOptions.UseReferenceKernels"/> is set.</summary>
    public static CpuReferenceBackend Instance { get; } = new();

    private protected CpuReferenceBackend()
    {
    }

    /// <summary>A short name for messages and benchmark tables: "cpu-reference".</summary>
    public virtual string Name => "cpu-reference";

    /// <summary>The backend's <see cref="Name"/>.</summary>
    public override string ToString() => Name;
}
