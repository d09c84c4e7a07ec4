namespace DeformEngine.NN;

/// <summary>Runs its children in order; they are named "0", "1", … as in PyTorch.</summary>
public sealed class Sequential<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<Module<T>> _layers = [];

    public Sequential(params Module<T>[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        for (int i = 0; i < layers.Length; i++)
            if (layers[i] is null)
                throw new ArgumentNullException(nameof(layers), $"layers[{i}]: expected a module, got null.");
        foreach (var layer in layers) Add(layer);
    }

    public Sequential<T> Add(Module<T> layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        _layers.Add(RegisterModule(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer));
        return this;
    }

    public int Count => _layers.Count;

    public Module<T> this[int index] => _layers[index];

    public override Tensor<T> Forward(Tensor<T> input)
    {
        var x = input;
        foreach (var layer in _layers) x = layer.Forward(x);
        return x;
    }
}
