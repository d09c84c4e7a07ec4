using System.Numerics;

namespace DeformEngine;

/// <summary>Computes the gradients of an operation's inputs from the gradient of its output.
/// <paramref name="needsGrad"/>[i] tells whether input i wants one; return null where it does not.</summary>
public delegate Tensor<T>?[] BackwardFunction<T>(Tensor<T> gradOutput, bool[] needsGrad)
    where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>One recorded operation: its inputs and the backward that maps the output's gradient
/// to theirs.</summary>
internal sealed class GraphNode<T>(string opName, Tensor<T>[] inputs, BackwardFunction<T> backward)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private BackwardFunction<T>? _backward = backward;

    public string OpName { get; } = opName;

    public Tensor<T>[] Inputs { get; private set; } = inputs;

    public bool IsFreed => _backward is null;

    public Tensor<T>?[] Run(Tensor<T> gradOutput, bool[] needsGrad)
    {
        if (_backward is null)
            throw new InvalidOperationException(
                $"Trying to run backward through '{OpName}' a second time: its saved tensors were freed by the first Backward(). " +
                "Pass retainGraph: true to the first call if you need to go through the graph again.");
        return _backward(gradOutput, needsGrad);
    }

    /// <summary>Drops the saved tensors (held by the closure) so the graph can be collected.</summary>
    public void Free() => _backward = null;
}
