namespace DeformEngine.Examples.DeformableRoIPooling;

/// <summary>One object on a canvas: its tight box and its class (0-based, as in the item set).</summary>
internal sealed record SceneObject(Box Box, int Label);

/// <summary>A square grey canvas (row-major, values in [0, 1]) with the objects on it.</summary>
internal sealed record Scene(float[] Pixels, int Size, IReadOnlyList<SceneObject> Objects);

/// <summary>How an item is drawn: its 28×28 frame centred at (CenterX, CenterY) of the canvas,
/// mapped by M = Scale · R(Angle) · [[1, Shear], [0, 1]] · diag(Aspect, 1/Aspect), then displaced by
/// a smooth wave of ElasticAmplitude item pixels (wavelength ElasticWavelength) along each axis: a
/// non-rigid deformation that no box can follow.</summary>
internal sealed record ItemPlacement(double CenterX, double CenterY, double Scale, double Angle = 0, double Shear = 0,
    double Aspect = 1, double ElasticAmplitude = 0, double ElasticWavelength = 20, double PhaseX = 0, double PhaseY = 0)
{
    /// <summary>The identity placement: item pixel (r, c) lands on canvas pixel (r + CenterY − 14, c + CenterX − 14).</summary>
    public static ItemPlacement At(double centerX, double centerY) => new(centerX, centerY, 1);
}

/// <summary>Settings of the scene generator.</summary>
internal sealed record SceneOptions(int Size = 96, int MinObjects = 1, int MaxObjects = 3, double MinSide = 26, double MaxSide = 46,
    double MaxAngleDegrees = 25, double MaxShear = 0.3, double MaxLogAspect = 0.25, double MaxElastic = 1.5,
    double MaxOverlapIoU = 0.15, double Noise = 0.03);

/// <summary>Makes canvases with one to three items, each randomly scaled, rotated, sheared, stretched
/// and elastically warped, placed where it overlaps no other object by more than
/// <see cref="SceneOptions.MaxOverlapIoU"/>, with its tight box (pixels above
/// <see cref="InkThreshold"/>) and class.</summary>
internal static class SceneGenerator
{
    /// <summary>A pixel belongs to an object's box when the drawn item is brighter than this there.</summary>
    public const float InkThreshold = 0.15f;
    private const int PlacementTries = 30;

    public static Scene[] Generate(ItemSet items, int count, SeededRandom random, SceneOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        options ??= new SceneOptions();
        if (items.Count == 0) throw new ArgumentException("items: expected at least one item.", nameof(items));
        if (options.MinObjects < 1 || options.MaxObjects < options.MinObjects)
            throw new ArgumentException($"options: expected 1 ≤ MinObjects ≤ MaxObjects, got {options.MinObjects} and {options.MaxObjects}.", nameof(options));
        return Enumerable.Range(0, count).Select(_ => One(items, random, options)).ToArray();
    }

    private static Scene One(ItemSet items, SeededRandom random, SceneOptions options)
    {
        int size = options.Size;
        var canvas = new float[size * size];
        var objects = new List<SceneObject>();
        int wanted = options.MinObjects + random.NextInt(options.MaxObjects - options.MinObjects + 1);
        for (int tries = 0; objects.Count < wanted && tries < PlacementTries * wanted; tries++)
        {
            int index = random.NextInt(items.Count);
            var placement = RandomPlacement(random, options);
            var layer = new float[size * size];
            var box = Draw(items.Item(index), placement, layer, size);
            if (box is not { } b || b.Width < 6 || b.Height < 6) continue;
            if (objects.Any(o => o.Box.IoU(b) > options.MaxOverlapIoU)) continue;
            for (int i = 0; i < canvas.Length; i++) canvas[i] = Math.Max(canvas[i], layer[i]);
            objects.Add(new SceneObject(b, items.Labels[index]));
        }
        if (objects.Count == 0)
            throw new InvalidOperationException($"no item could be placed on a {size}×{size} canvas in {PlacementTries * wanted} tries.");
        for (int i = 0; i < canvas.Length; i++)
            canvas[i] = (float)Math.Clamp(canvas[i] + options.Noise * random.NextNormal(), 0, 1);
        return new Scene(canvas, size, objects);
    }

    private static ItemPlacement RandomPlacement(SeededRandom random, SceneOptions options)
    {
        double Uniform(double low, double high) => low + (high - low) * random.NextDouble();
        double scale = Uniform(options.MinSide, options.MaxSide) / ItemSet.Side;
        double angle = Uniform(-1, 1) * options.MaxAngleDegrees * Math.PI / 180;
        double shear = Uniform(-1, 1) * options.MaxShear;
        double aspect = Math.Exp(Uniform(-1, 1) * options.MaxLogAspect);
        // The frame's extent after the map, so that the item lands on the canvas whole.
        var (halfX, halfY) = HalfExtent(scale, angle, shear, aspect);
        double centerX = Uniform(halfX, Math.Max(halfX, options.Size - halfX));
        double centerY = Uniform(halfY, Math.Max(halfY, options.Size - halfY));
        return new ItemPlacement(centerX, centerY, scale, angle, shear, aspect,
            Uniform(0, options.MaxElastic), Uniform(14, 28), Uniform(0, 2 * Math.PI), Uniform(0, 2 * Math.PI));
    }

    /// <summary>Draws <paramref name="item"/> onto <paramref name="layer"/> (size × size, values
    /// replaced where the item lands) by inverse mapping with bilinear interpolation (outside the
    /// frame reads 0), and returns the tight box of the pixels above <see cref="InkThreshold"/>, or
    /// null when none is.</summary>
    public static Box? Draw(ReadOnlySpan<float> item, ItemPlacement placement, float[] layer, int size)
    {
        if (item.Length != ItemSet.ItemSize)
            throw new ArgumentException($"item: expected {ItemSet.ItemSize} pixels (28×28), got {item.Length}.", nameof(item));
        if (layer.Length != size * size)
            throw new ArgumentException($"layer: expected {size}·{size} = {size * size} pixels, got {layer.Length}.", nameof(layer));
        var (m00, m01, m10, m11) = Matrix(placement.Scale, placement.Angle, placement.Shear, placement.Aspect);
        double det = m00 * m11 - m01 * m10;
        double i00 = m11 / det, i01 = -m01 / det, i10 = -m10 / det, i11 = m00 / det;
        const double centre = (ItemSet.Side - 1) / 2.0;
        int minX = size, minY = size, maxX = -1, maxY = -1;
        for (int r = 0; r < size; r++)
            for (int c = 0; c < size; c++)
            {
                // Canvas pixel (r, c) has its centre at (r + ½, c + ½) (box convention); the item is read by
                // pixel index, its frame's centre at (13.5, 13.5).
                double dx = c + 0.5 - placement.CenterX, dy = r + 0.5 - placement.CenterY;
                double sx = i00 * dx + i01 * dy, sy = i10 * dx + i11 * dy;
                if (Math.Abs(sx) > ItemSet.Side || Math.Abs(sy) > ItemSet.Side) continue;
                if (placement.ElasticAmplitude > 0)
                {
                    double k = 2 * Math.PI / placement.ElasticWavelength;
                    (sx, sy) = (sx + placement.ElasticAmplitude * Math.Sin(k * sy + placement.PhaseX),
                                sy + placement.ElasticAmplitude * Math.Sin(k * sx + placement.PhaseY));
                }
                float value = FashionMnistIdx.Bilinear(item, sy + centre, sx + centre);
                if (value <= 0) continue;
                layer[r * size + c] = value;
                if (value <= InkThreshold) continue;
                minX = Math.Min(minX, c);
                maxX = Math.Max(maxX, c);
                minY = Math.Min(minY, r);
                maxY = Math.Max(maxY, r);
            }
        return maxX < 0 ? null : new Box(minX, minY, maxX + 1, maxY + 1);
    }

    /// <summary>M = scale · R(angle) · [[1, shear], [0, 1]] · diag(aspect, 1/aspect), acting on (x, y).</summary>
    private static (double, double, double, double) Matrix(double scale, double angle, double shear, double aspect)
    {
        double cos = Math.Cos(angle), sin = Math.Sin(angle);
        // R · S = [[cos, cos·shear − sin], [sin, sin·shear + cos]], then the columns scaled by aspect and 1/aspect.
        return (scale * cos * aspect, scale * (cos * shear - sin) / aspect,
                scale * sin * aspect, scale * (sin * shear + cos) / aspect);
    }

    private static (double X, double Y) HalfExtent(double scale, double angle, double shear, double aspect)
    {
        var (m00, m01, m10, m11) = Matrix(scale, angle, shear, aspect);
        const double half = ItemSet.Side / 2.0;
        return ((Math.Abs(m00) + Math.Abs(m01)) * half, (Math.Abs(m10) + Math.Abs(m11)) * half);
    }
}
