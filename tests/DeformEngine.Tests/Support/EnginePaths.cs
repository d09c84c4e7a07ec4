namespace DeformEngine.Tests.Support;

/// <summary>Runs a piece of code on one CPU path (reference loops or fast kernels) and restores the
/// process-wide switch afterwards. Test classes that use it must be [DoNotParallelize].</summary>
public static class EnginePaths
{
    public static TResult Run<TResult>(bool reference, Func<TResult> body)
    {
        bool saved = EngineOptions.UseReferenceKernels;
        try
        {
            EngineOptions.UseReferenceKernels = reference;
            return body();
        }
        finally
        {
            EngineOptions.UseReferenceKernels = saved;
        }
    }

    public static void Run(bool reference, Action body) => Run(reference, () =>
    {
        body();
        return true;
    });

    public static IEnumerable<object[]> Both => [[true], [false]];
}
