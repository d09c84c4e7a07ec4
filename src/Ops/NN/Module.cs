namespace DeformEngine.NN;

/// <summary>Base of the layers: parameters, buffers and child modules registered by name, so that
/// the names of <see cref="StateDict"/> follow PyTorch (<c>layer1.0.bn1.running_mean</c>), a
/// train/eval mode switch, and loading of a state by name.</summary>
public abstract partial class Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<(string Name, Parameter<T> Parameter)> _parameters = [];
    private readonly List<(string Name, Tensor<T> Buffer)> _buffers = [];
    private readonly List<(string Name, Module<T> Module)> _children = [];

    /// <summary>True in training mode (the default): BatchNorm uses batch statistics, Dropout drops.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>The layer's computation on <paramref name="input"/>, recorded for autograd; each layer documents the
    /// shapes it takes.</summary>
    public abstract Tensor<T> Forward(Tensor<T> input);

    /// <summary>Sets training mode on this module and all its descendants.</summary>
    public Module<T> Train(bool mode = true)
    {
        Training = mode;
        foreach (var (_, child) in _children) child.Train(mode);
        return this;
    }

    /// <summary>Sets evaluation mode on this module and all its descendants.</summary>
    public Module<T> Eval() => Train(false);

    /// <summary>Adds a learnable tensor under <paramref name="name"/> (a <see cref="Parameter{T}"/> wrapping
    /// <paramref name="value"/>) and returns it.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty, contains '.', or is already registered
    /// here.</exception>
    protected Parameter<T> RegisterParameter(string name, Tensor<T> value)
    {
        RequireFreeName(name);
        var parameter = new Parameter<T>(value);
        _parameters.Add((name, parameter));
        return parameter;
    }

    /// <summary>A state tensor that is saved and loaded but not learned (running statistics).</summary>
    protected Tensor<T> RegisterBuffer(string name, Tensor<T> value)
    {
        ArgumentNullException.ThrowIfNull(value);
        RequireFreeName(name);
        _buffers.Add((name, value));
        return value;
    }

    /// <summary>Adds <paramref name="module"/> as a child under <paramref name="name"/>, so its parameters and buffers
    /// get the prefix "name." and follow mode switches and moves; returns it.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty, contains '.', or is already registered
    /// here.</exception>
    protected TModule RegisterModule<TModule>(string name, TModule module) where TModule : Module<T>
    {
        ArgumentNullException.ThrowIfNull(module);
        RequireFreeName(name);
        _children.Add((name, module));
        return module;
    }

    private void RequireFreeName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"name: expected a non-empty name without '.', got '{name}'.", nameof(name));
        if (_parameters.Any(p => p.Name == name) || _buffers.Any(b => b.Name == name) || _children.Any(c => c.Name == name))
            throw new ArgumentException($"name: '{name}' is already registered on {GetType().Name}.", nameof(name));
    }

    /// <summary>Parameters of this module and its descendants, depth first, with dotted names.</summary>
    public IEnumerable<(string Name, Parameter<T> Parameter)> NamedParameters()
    {
        foreach (var (prefix, module) in NamedModules())
            foreach (var (name, parameter) in module._parameters)
                yield return (Join(prefix, name), parameter);
    }

    /// <summary>The parameters of <see cref="NamedParameters"/> without their names, for optimizers.</summary>
    public IEnumerable<Parameter<T>> Parameters() => NamedParameters().Select(p => p.Parameter);

    /// <summary>Buffers (running statistics) of this module and its descendants, depth first, with dotted
    /// names.</summary>
    public IEnumerable<(string Name, Tensor<T> Buffer)> NamedBuffers()
    {
        foreach (var (prefix, module) in NamedModules())
            foreach (var (name, buffer) in module._buffers)
                yield return (Join(prefix, name), buffer);
    }

    /// <summary>This module (named "") and every descendant, depth first, with dotted names.</summary>
    public IEnumerable<(string Name, Module<T> Module)> NamedModules()
    {
        var stack = new Stack<(string, Module<T>)>();
        stack.Push(("", this));
        while (stack.Count > 0)
        {
            var (name, module) = stack.Pop();
            yield return (name, module);
            for (int i = module._children.Count - 1; i >= 0; i--)
                stack.Push((Join(name, module._children[i].Name), module._children[i].Module));
        }
    }

    /// <summary>This module and every descendant, depth first.</summary>
    public IEnumerable<Module<T>> Modules() => NamedModules().Select(m => m.Module);

    /// <summary>The direct children with the names they were registered under.</summary>
    public IEnumerable<(string Name, Module<T> Module)> NamedChildren() => _children;

    /// <summary>Number of learnable values.</summary>
    public long ParameterCount => Parameters().Sum(p => (long)p.Numel);

    /// <summary>Drops the accumulated gradient of every parameter, so the next backward starts from zero.</summary>
    public void ZeroGrad()
    {
        foreach (var parameter in Parameters()) parameter.ZeroGrad();
    }

    /// <summary>Every parameter and buffer by its dotted name, in PyTorch's order (per module its
    /// parameters, then its buffers, then its children). The tensors share the module's storage
    /// but carry no history; for a module moved to a device they are device tensors (copy them with
    /// <c>To(Device.Cpu)</c> to save or inspect them).</summary>
    public OrderedDictionary<string, Tensor<T>> StateDict()
    {
        var state = new OrderedDictionary<string, Tensor<T>>();
        foreach (var (prefix, module) in NamedModules())
        {
            foreach (var (name, parameter) in module._parameters) state.Add(Join(prefix, name), parameter.Value.Detach());
            foreach (var (name, buffer) in module._buffers) state.Add(Join(prefix, name), buffer.Detach());
        }
        return state;
    }

    /// <summary>Copies the values of <paramref name="stateDict"/> into this module's parameters and
    /// buffers by name, onto the device where each of them lives (the source may be on any device). A shape mismatch always throws; with <paramref name="strict"/> a missing or
    /// unexpected name throws too, otherwise they are reported in the result.</summary>
    public StateDictLoadResult LoadStateDict(IReadOnlyDictionary<string, Tensor<T>> stateDict, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        var own = StateDict();
        var missing = own.Keys.Where(k => !stateDict.ContainsKey(k)).ToList();
        var unexpected = stateDict.Keys.Where(k => !own.ContainsKey(k)).ToList();
        foreach (var (name, target) in own)
        {
            if (!stateDict.TryGetValue(name, out var source)) continue;
            if (!target.ShapeSpan.SequenceEqual(source.ShapeSpan))
                throw new ArgumentException(
                    $"stateDict: '{name}' has shape {ShapeMath.Format(source.ShapeSpan)}, the module expects {ShapeMath.Format(target.ShapeSpan)}.", nameof(stateDict));
        }
        if (strict && (missing.Count > 0 || unexpected.Count > 0))
            throw new ArgumentException(
                "stateDict: names do not match the module." +
                (missing.Count > 0 ? $" Missing: {string.Join(", ", missing)}." : "") +
                (unexpected.Count > 0 ? $" Unexpected: {string.Join(", ", unexpected)}." : ""), nameof(stateDict));
        foreach (var (name, target) in own)
            if (stateDict.TryGetValue(name, out var source)) target.Assign(source.Detach());
        return new StateDictLoadResult(missing, unexpected);
    }

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;
}

/// <summary>Names that <see cref="Module{T}.LoadStateDict"/> did not find in the given state
/// (missing) or found there without a place in the module (unexpected).</summary>
public sealed record StateDictLoadResult(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys);
