namespace DeformEngine.Tests.Support;

/// <summary>Runs code with the CPU's reference or fast backend selected (a process-wide switch: test
/// classes that use it do not run in parallel with each other).</summary>
public static class Backends
{
    public static TResult With<TResult>(bool reference, Func<TResult> run)
    {
        bool saved = EngineOptions.UseReferenceKernels;
        try
        {
            EngineOptions.UseReferenceKernels = reference;
            return run();
        }
        finally
        {
            EngineOptions.UseReferenceKernels = saved;
        }
    }
}
