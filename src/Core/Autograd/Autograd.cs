using System.Numerics;

namespace DeformEngine;

/// <summary>Switches for reverse-mode differentiation and the hook operators use to record
/// themselves.</summary>
public static class Autograd
{
    [ThreadStatic] private static int _noGradDepth;

    /// <summary>False inside a <see cref="NoGrad"/> scope (on this thread).</summary>
    public static bool IsGradEnabled => _noGradDepth == 0;

    /// <summary>Within the returned scope no graph is recorded.</summary>
    public static NoGradScope NoGrad()
    {
        _noGradDepth++;
        return new NoGradScope();
    }

    /// <summary>The scope <see cref="NoGrad"/> returns; disposing it restores recording (scopes nest, per
    /// thread).</summary>
    public readonly struct NoGradScope : IDisposable
    {
        /// <summary>Leaves the no-grad scope; dispose exactly once, on the thread that opened it.</summary>
        public void Dispose() => _noGradDepth--;
    }

    /// <summary>Attaches <paramref name="backward"/> to <paramref name="result"/> when gradients are
    /// enabled and some input requires one; otherwise returns <paramref name="result"/> untouched.</summary>
    public static Tensor<T> Record<T>(Tensor<T> result, string opName, BackwardFunction<T> backward, params Tensor<T>?[] inputs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!IsGradEnabled) return result;
        bool any = false;
        foreach (var input in inputs) any |= input is { RequiresGrad: true };
        if (!any) return result;
        // Absent optional inputs (a null bias) are kept as empty slots so backward indices stay fixed.
        var slots = new Tensor<T>[inputs.Length];
        for (int i = 0; i < inputs.Length; i++) slots[i] = inputs[i] ?? NoInput<T>.Instance;
        result.Node = new GraphNode<T>(opName, slots, backward);
        result.MarkRequiresGrad();
        return result;
    }

    private static class NoInput<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static readonly Tensor<T> Instance = Tensor<T>.Zeros(0);
    }
}
