namespace DeformEngine.Examples.DeformableRoIPooling;

/// <summary>An axis-aligned box in image pixels, x2 and y2 exclusive: pixel (r, c) covers
/// [c, c + 1) × [r, r + 1), the convention of aligned RoI Align (a box from x1 to x2 pools the
/// pixels whose centres c + ½ lie between).</summary>
internal readonly record struct Box(double X1, double Y1, double X2, double Y2)
{
    public double Width => X2 - X1;
    public double Height => Y2 - Y1;
    public double Area => Math.Max(Width, 0) * Math.Max(Height, 0);
    public double CenterX => (X1 + X2) / 2;
    public double CenterY => (Y1 + Y2) / 2;

    /// <summary>Intersection over union; 0 when either box is empty.</summary>
    public double IoU(Box other)
    {
        double w = Math.Min(X2, other.X2) - Math.Max(X1, other.X1);
        double h = Math.Min(Y2, other.Y2) - Math.Max(Y1, other.Y1);
        if (w <= 0 || h <= 0) return 0;
        double intersection = w * h;
        return intersection / (Area + other.Area - intersection);
    }

    /// <summary>The box cut to [0, size) on both axes.</summary>
    public Box Clip(int size) =>
        new(Math.Clamp(X1, 0, size), Math.Clamp(Y1, 0, size), Math.Clamp(X2, 0, size), Math.Clamp(Y2, 0, size));

    public static Box FromCenter(double centerX, double centerY, double width, double height) =>
        new(centerX - width / 2, centerY - height / 2, centerX + width / 2, centerY + height / 2);

    public override string ToString() => FormattableString.Invariant($"({X1:F1}, {Y1:F1}, {X2:F1}, {Y2:F1})");
}

/// <summary>The R-CNN box parameterisation: a target box g relative to a proposal p as
/// ((gx − px)/pw, (gy − py)/ph, log(gw/pw), log(gh/ph)) of the centres and sizes, each divided by
/// its standard deviation (0.1, 0.1, 0.2, 0.2, Fast R-CNN's) so that the four come out near unit scale.</summary>
internal static class BoxCoder
{
    public static readonly double[] Std = [0.1, 0.1, 0.2, 0.2];

    // Caps log-size deltas before exp, as torchvision's BoxCoder does (log(1000/16)), so that a wild
    // prediction early in training cannot overflow.
    private static readonly double MaxLogScale = Math.Log(1000.0 / 16);

    public static double[] Encode(Box proposal, Box target) =>
    [
        (target.CenterX - proposal.CenterX) / proposal.Width / Std[0],
        (target.CenterY - proposal.CenterY) / proposal.Height / Std[1],
        Math.Log(target.Width / proposal.Width) / Std[2],
        Math.Log(target.Height / proposal.Height) / Std[3],
    ];

    public static Box Decode(Box proposal, ReadOnlySpan<float> deltas)
    {
        double centerX = proposal.CenterX + deltas[0] * Std[0] * proposal.Width;
        double centerY = proposal.CenterY + deltas[1] * Std[1] * proposal.Height;
        double width = proposal.Width * Math.Exp(Math.Min(deltas[2] * Std[2], MaxLogScale));
        double height = proposal.Height * Math.Exp(Math.Min(deltas[3] * Std[3], MaxLogScale));
        return Box.FromCenter(centerX, centerY, width, height);
    }
}
