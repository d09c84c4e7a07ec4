using DeformEngine.IO;

namespace DeformEngine.Explain;

/// <summary>An 8-bit RGB colour.</summary>
public readonly record struct Rgb(byte R, byte G, byte B)
{
    public static readonly Rgb White = new(255, 255, 255);
    public static readonly Rgb Black = new(0, 0, 0);
    public static readonly Rgb Gray = new(128, 128, 128);
    public static readonly Rgb Red = new(230, 40, 40);
    public static readonly Rgb Green = new(40, 200, 60);
    public static readonly Rgb Blue = new(50, 110, 240);
    public static readonly Rgb Cyan = new(0, 200, 220);
    public static readonly Rgb Yellow = new(250, 210, 0);
    public static readonly Rgb Orange = new(250, 140, 0);

    /// <summary>The "inferno"-like map of the heat maps: black → purple → red → yellow → white
    /// for t in [0, 1] (clamped).</summary>
    public static Rgb Heat(double t)
    {
        ReadOnlySpan<double> stops = [0, 0.25, 0.5, 0.75, 1];
        ReadOnlySpan<byte> r = [0, 110, 220, 252, 255], g = [0, 20, 70, 180, 255], b = [4, 110, 50, 20, 230];
        t = double.IsNaN(t) ? 0 : Math.Clamp(t, 0, 1);
        int i = Math.Min((int)(t * 4), 3);
        double f = (t - stops[i]) / (stops[i + 1] - stops[i]);
        return new Rgb(Lerp(r[i], r[i + 1], f), Lerp(g[i], g[i + 1], f), Lerp(b[i], b[i + 1], f));
    }

    private static byte Lerp(byte a, byte b, double f) => (byte)Math.Round(a + (b - a) * f);
}

/// <summary>A small raster for plots: pixels, rectangles, lines, dots, rings, arrows and 5×7 text.
/// Coordinates are (x, y) in pixels, y down; drawing outside the canvas is clipped.</summary>
public sealed class Canvas
{
    private readonly byte[] _rgb;

    public Canvas(int width, int height, Rgb background)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        Width = width;
        Height = height;
        _rgb = new byte[width * height * 3];
        FillRect(0, 0, width, height, background);
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>The pixels, row-major RGB, top row first.</summary>
    public ReadOnlySpan<byte> Pixels => _rgb;

    public Rgb this[int x, int y] => new(_rgb[(y * Width + x) * 3], _rgb[(y * Width + x) * 3 + 1], _rgb[(y * Width + x) * 3 + 2]);

    public void SetPixel(int x, int y, Rgb color)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height) return;
        int at = (y * Width + x) * 3;
        _rgb[at] = color.R;
        _rgb[at + 1] = color.G;
        _rgb[at + 2] = color.B;
    }

    public void FillRect(int x, int y, int width, int height, Rgb color)
    {
        for (int row = Math.Max(y, 0); row < Math.Min(y + height, Height); row++)
            for (int column = Math.Max(x, 0); column < Math.Min(x + width, Width); column++)
                SetPixel(column, row, color);
    }

    public void StrokeRect(int x, int y, int width, int height, Rgb color, int thickness = 1)
    {
        FillRect(x, y, width, thickness, color);
        FillRect(x, y + height - thickness, width, thickness, color);
        FillRect(x, y, thickness, height, color);
        FillRect(x + width - thickness, y, thickness, height, color);
    }

    /// <summary>A straight line, <paramref name="thickness"/> pixels wide (square brush).</summary>
    public void Line(double x0, double y0, double x1, double y1, Rgb color, int thickness = 1)
    {
        double length = Math.Max(Math.Abs(x1 - x0), Math.Abs(y1 - y0));
        int steps = Math.Max((int)Math.Ceiling(length), 1);
        int low = -(thickness - 1) / 2, high = thickness / 2;
        for (int s = 0; s <= steps; s++)
        {
            int x = (int)Math.Round(x0 + (x1 - x0) * s / steps), y = (int)Math.Round(y0 + (y1 - y0) * s / steps);
            for (int dy = low; dy <= high; dy++)
                for (int dx = low; dx <= high; dx++)
                    SetPixel(x + dx, y + dy, color);
        }
    }

    /// <summary>A filled disc of <paramref name="radius"/> pixels centred on (cx, cy).</summary>
    public void Dot(double cx, double cy, double radius, Rgb color)
    {
        for (int y = (int)Math.Floor(cy - radius); y <= (int)Math.Ceiling(cy + radius); y++)
            for (int x = (int)Math.Floor(cx - radius); x <= (int)Math.Ceiling(cx + radius); x++)
                if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= radius * radius) SetPixel(x, y, color);
    }

    /// <summary>A circle outline about <paramref name="thickness"/> pixels wide.</summary>
    public void Ring(double cx, double cy, double radius, Rgb color, double thickness = 1.5)
    {
        double inner = Math.Max(radius - thickness, 0);
        for (int y = (int)Math.Floor(cy - radius); y <= (int)Math.Ceiling(cy + radius); y++)
            for (int x = (int)Math.Floor(cx - radius); x <= (int)Math.Ceiling(cx + radius); x++)
            {
                double d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
                if (d2 <= radius * radius && d2 >= inner * inner) SetPixel(x, y, color);
            }
    }

    /// <summary>A line from (x0, y0) to (x1, y1) with a two-stroke head at the end.</summary>
    public void Arrow(double x0, double y0, double x1, double y1, Rgb color, double headLength = 4, int thickness = 1)
    {
        Line(x0, y0, x1, y1, color, thickness);
        double length = Math.Sqrt((x1 - x0) * (x1 - x0) + (y1 - y0) * (y1 - y0));
        if (length < 1e-9) return;
        double head = Math.Min(headLength, length * 0.6);
        double ux = (x1 - x0) / length, uy = (y1 - y0) / length;
        const double spread = 0.5;  // tan of the head's half-angle
        Line(x1, y1, x1 - head * (ux - spread * uy), y1 - head * (uy + spread * ux), color, thickness);
        Line(x1, y1, x1 - head * (ux + spread * uy), y1 - head * (uy - spread * ux), color, thickness);
    }

    /// <summary>Draws <paramref name="text"/> with its top-left corner at (x, y); each font pixel
    /// becomes a <paramref name="scale"/>×<paramref name="scale"/> block.</summary>
    public void Text(int x, int y, string text, Rgb color, int scale = 1)
    {
        ArgumentNullException.ThrowIfNull(text);
        for (int k = 0; k < text.Length; k++)
            for (int column = 0; column < Font5x7.GlyphWidth; column++)
                for (int row = 0; row < Font5x7.GlyphHeight; row++)
                    if (Font5x7.IsSet(text[k], column, row))
                        FillRect(x + (k * Font5x7.Advance + column) * scale, y + row * scale, scale, scale, color);
    }

    public static int TextWidth(string text, int scale = 1) =>
        text.Length == 0 ? 0 : (text.Length * Font5x7.Advance - 1) * scale;

    public static int TextHeight(int scale = 1) => Font5x7.GlyphHeight * scale;

    /// <summary>Paints an H×W grid of values, each as a <paramref name="scale"/>×scale block,
    /// with the top-left at (x, y).</summary>
    public void Raster(int x, int y, int height, int width, int scale, Func<int, int, Rgb> colorAt)
    {
        ArgumentNullException.ThrowIfNull(colorAt);
        for (int row = 0; row < height; row++)
            for (int column = 0; column < width; column++)
                FillRect(x + column * scale, y + row * scale, scale, scale, colorAt(row, column));
    }

    public byte[] EncodePng() => Png.Encode(Width, Height, _rgb);

    public void SavePng(string path) => Png.Write(path, Width, Height, _rgb);
}
