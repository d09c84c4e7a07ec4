namespace DeformEngine.NN;

/// <summary>Runs its children in order; they are named "0", "1", … as in PyTorch.</summary>
public sealed class Sequential<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<Module<T>> _layers = [];

    /// <summary>A stack of <paramref name="layers"/>, run in this order and named "0", "1", ….</summary>
    /// <exception cref="ArgumentNullException"><paramref name="layers"/> or one of its elements is null.</exception>
    public Sequential(params Module<T>[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        for (int i = 0; i < layers.Length; i++)
            if (layers[i] is null)
                throw new ArgumentNullException(nameof(layers), $"layers[{i}]: expected a module, got null.");
        foreach (var layer in layers) Add(layer);
    }

    /// <summary>Appends <paramref name="layer"/> under the next index as its name; returns this stack, so that calls
    /// chain.</summary>
    public Sequential<T> Add(Module<T> layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        _layers.Add(RegisterModule(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer));
        return this;
    }

    /// <summary>Number of layers.</summary>
    public int Count => _layers.Count;

    /// <summary>The layer at <paramref name="index"/> (0-based, in running order).</summary>
    public Module<T> this[int index] => _layers[index];

    /// <summary>Each layer's output fed to the next; the shapes are those of the layers.</summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        var x = input;
        foreach (var layer in _layers) x = layer.Forward(x);
        return x;
    }
}
