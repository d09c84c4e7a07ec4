namespace DeformEngine;

public sealed partial class Tensor<T>
{
    /// <summary>Back-propagates from a one-element tensor (the gradient seed is 1).</summary>
    public void Backward(bool retainGraph = false)
    {
        if (Numel != 1)
            throw new InvalidOperationException(
                $"Backward() without a gradient needs a one-element tensor, got shape {ShapeMath.Format(_shape)}; pass gradOutput.");
        var seed = Full(T.One, _shape);
        Backward(Device.IsCpu ? seed : seed.To(Device), retainGraph);
    }

    /// <summary>Back-propagates <paramref name="gradOutput"/> (same shape as this tensor) through the
    /// recorded graph; leaf gradients accumulate into <see cref="Grad"/>.</summary>
    public void Backward(Tensor<T> gradOutput, bool retainGraph = false)
    {
        ArgumentNullException.ThrowIfNull(gradOutput);
        if (!RequiresGrad)
            throw new InvalidOperationException("This tensor does not require a gradient and has no recorded history.");
        ShapeMath.RequireShape(nameof(gradOutput), gradOutput._shape, _shape);
        RequireSameDevice(this, gradOutput, nameof(gradOutput));

        var order = TopologicalOrder();
        var pending = new Dictionary<Tensor<T>, Tensor<T>>(ReferenceEqualityComparer.Instance) { [this] = gradOutput };
        // Storage a leaf's new Grad must not share: the caller's gradOutput, every tensor of the graph
        // and every input of its nodes, every gradient handed to a node (pass-through backward passes
        // such as Add's return it, reshapes return views of it) and every gradient a leaf already took.
        // A leaf gradient on such storage is copied; a fresh one (most backward passes allocate their
        // results) becomes Grad as it is, saving a copy and, for large results, a new array's page faults.
        var shared = new HashSet<object>(ReferenceEqualityComparer.Instance) { gradOutput.Storage };
        foreach (var tensor in order)
        {
            shared.Add(tensor.Storage);
            if (tensor.Node is null) continue;
            foreach (var input in tensor.Node.Inputs) shared.Add(input.Storage);
        }
        using (Autograd.NoGrad())
        {
            for (int i = order.Count - 1; i >= 0; i--)
            {
                var tensor = order[i];
                if (!pending.Remove(tensor, out var grad)) continue;
                if (tensor.Node is null)
                {
                    if (tensor.Grad is not null)
                        tensor.Grad.AddInPlace(grad);
                    else
                        tensor.Grad = shared.Add(grad.Storage) ? grad : grad.Clone();
                    continue;
                }
                shared.Add(grad.Storage);
                PropagateThrough(tensor.Node, grad, pending);
                if (!retainGraph) tensor.Node.Free();
            }
        }
    }

    private static void PropagateThrough(GraphNode<T> node, Tensor<T> grad, Dictionary<Tensor<T>, Tensor<T>> pending)
    {
        var inputs = node.Inputs;
        var needs = new bool[inputs.Length];
        for (int k = 0; k < inputs.Length; k++) needs[k] = inputs[k].RequiresGrad;
        var grads = node.Run(grad, needs);
        for (int k = 0; k < inputs.Length; k++)
        {
            if (!needs[k] || grads.Length <= k || grads[k] is not { } g) continue;
            if (!g._shape.AsSpan().SequenceEqual(inputs[k]._shape))
                throw new InvalidOperationException(
                    $"Backward of '{node.OpName}' returned a gradient of shape {ShapeMath.Format(g._shape)} for input {k} of shape {ShapeMath.Format(inputs[k]._shape)}.");
            // A tensor used twice gets both contributions.
            pending[inputs[k]] = pending.TryGetValue(inputs[k], out var existing) ? existing.Add(g) : g;
        }
    }

    /// <summary>Tensors reachable from this one, each after all of its inputs.</summary>
    private List<Tensor<T>> TopologicalOrder()
    {
        var order = new List<Tensor<T>>();
        var visited = new HashSet<Tensor<T>>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor<T> Tensor, bool Expanded)>();
        stack.Push((this, false));
        while (stack.Count > 0)
        {
            var (tensor, expanded) = stack.Pop();
            if (expanded)
            {
                order.Add(tensor);
                continue;
            }
            if (!visited.Add(tensor)) continue;
            stack.Push((tensor, true));
            if (tensor.Node is null) continue;
            foreach (var input in tensor.Node.Inputs)
                if (input.RequiresGrad && !visited.Contains(input)) stack.Push((input, false));
        }
        return order;
    }
}
