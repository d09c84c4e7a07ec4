namespace DeformEngine.Explain;

/// <summary>Follows the samples of a stack of deformable layers down to the image, for the
/// sampling-location figures of the DCN papers.</summary>
public static class SamplingTrace
{
    /// <summary>Positions per level in image coordinates: level 0 = the top layer's samples of
    /// (y, x), level 1 = the samples of the units those land on in the layer below (each sample is
    /// traced to the nearest unit of that layer), and so on; pooling steps
    /// (<see cref="SamplingLayer.DrawsSamples"/> false) map units but make no level.</summary>
    /// <param name="layers">Bottom (reads the image) first.</param>
    /// <param name="y">Output row of the top layer.</param>
    /// <param name="x">Output column of the top layer.</param>
    public static List<List<(double Y, double X)>> Levels(IReadOnlyList<SamplingLayer> layers, int y, int x)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0) throw new ArgumentException("layers: expected at least one layer.", nameof(layers));
        var levels = new List<List<(double, double)>>();
        var units = new List<(int Y, int X)> { (y, x) };
        for (int layer = layers.Count - 1; layer >= 0; layer--)
        {
            var source = layers[layer];
            // A pooling step passes each unit on through the centre of its window, drawing nothing.
            var positions = source.DrawsSamples
                ? units.SelectMany(u => source.Positions(u.Y, u.X)).ToList()
                : units.Select(u => source.OutputToInput(u.Y, u.X)).ToList();
            if (source.DrawsSamples) levels.Add(positions.Select(p => ToImage(layers, layer, p.Y, p.X)).ToList());
            if (layer > 0) units = positions.Select(p => layers[layer - 1].NearestUnit(p.Y, p.X)).Distinct().ToList();
        }
        return levels;
    }

    /// <summary>Maps a position in the input of layer <paramref name="layer"/> (= the output of the
    /// layer below) to image coordinates through the regular windows of the layers below it;
    /// <paramref name="layer"/> = layers.Count maps an output position of the top layer.</summary>
    public static (double Y, double X) ToImage(IReadOnlyList<SamplingLayer> layers, int layer, double y, double x)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(layer, layers.Count);
        for (int below = layer - 1; below >= 0; below--) (y, x) = layers[below].OutputToInput(y, x);
        return (y, x);
    }
}
