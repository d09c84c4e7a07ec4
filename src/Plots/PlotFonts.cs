using ScottPlot;
using SkiaSharp;

namespace DeformEngine.Plotting;

/// <summary>The one typeface of every figure, DejaVu Sans, loaded from this assembly. Skia's Linux
/// build without system dependencies finds no fonts on a machine that has none installed and then
/// draws no text at all; an embedded font also makes the figures look the same everywhere.</summary>
public static class PlotFonts
{
    /// <summary>The family name the plots use for every label.</summary>
    public const string Family = "DejaVu Sans";

    private static readonly Lazy<(SKData Regular, SKData Bold)> FontFiles = new(Load);
    private static readonly object Gate = new();
    private static bool _registered;

    /// <summary>A new regular typeface (the caller owns it: ScottPlot may dispose what it is given).</summary>
    public static SKTypeface Regular() => SKTypeface.FromData(FontFiles.Value.Regular);

    /// <summary>A new bold typeface (the caller owns it).</summary>
    public static SKTypeface Bold() => SKTypeface.FromData(FontFiles.Value.Bold);

    /// <summary>Makes <see cref="Family"/> ScottPlot's default font, answered from the embedded files
    /// before any system font. Idempotent; every figure calls it before building a plot.</summary>
    public static void Register()
    {
        lock (Gate)
        {
            if (_registered) return;
            Fonts.FontResolvers.Insert(0, new EmbeddedFontResolver());
            Fonts.Default = Family;
            Fonts.Sans = Family;
            _registered = true;
        }
    }

    private static (SKData, SKData) Load() =>
        (FromResource("DeformEngine.Plots.DejaVuSans.ttf"), FromResource("DeformEngine.Plots.DejaVuSans-Bold.ttf"));

    private static SKData FromResource(string name)
    {
        using var stream = typeof(PlotFonts).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The font resource '{name}' is missing from {typeof(PlotFonts).Assembly.GetName().Name}.");
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        var data = SKData.CreateCopy(memory.ToArray());
        using var probe = SKTypeface.FromData(data)
            ?? throw new InvalidOperationException($"The font resource '{name}' is not a font Skia can read.");
        return data;
    }

    /// <summary>Answers <see cref="Family"/> (any other name too: every label of a figure is set in
    /// it, whatever a plottable asks for) with the embedded regular or bold face.</summary>
    private sealed class EmbeddedFontResolver : IFontResolver
    {
        public SKTypeface CreateTypeface(string fontName, bool bold, bool italic) => bold ? Bold() : Regular();

        public SKTypeface CreateTypeface(string fontName, FontWeight weight, FontSlant slant, FontSpacing spacing) =>
            weight >= FontWeight.SemiBold ? Bold() : Regular();
    }
}
