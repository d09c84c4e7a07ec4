using System.Globalization;

namespace GradientFlow;

/// <summary>Command-line options.</summary>
internal sealed record Options(string Out, string? Weights, string? Image, int Index, long Seed, (int Y, int X)? Unit, bool Help,
    bool Attention = false, (int Y, int X)? Query = null)
{
    /// <summary>The picture to explain: as chosen, else a garment for trained weights (a network
    /// trained on Fashion-MNIST, shown an ellipse and a square, teaches little) and the synthetic
    /// picture for random weights.</summary>
    public string ImageOrDefault => Image ?? (Weights is null ? "synthetic" : "fashion-mnist");

    public const string Usage =
        """
        usage: dotnet run -c Release --project examples/GradientFlow -- [options]
          --out DIR          where the pictures go (default ./gradient-flow-output)
          --weights FILE     a .safetensors file with trained DCN layers (mmcv names: P.weight,
                             P.conv_offset.weight, ...) whose first layer reads a 1-channel image,
                             or DeformedFashion's --save-weights file (conv2, conv3 behind its
                             conv1/bn/max-pool stem); shows the learned offsets instead of random ones
          --image NAME       fashion-mnist (default with --weights; needs Debian's dataset-fashion-mnist,
                             else the synthetic picture is used) or synthetic (default without --weights)
          --synthetic        the same as --image synthetic: the ellipse and the square
          --index N          which Fashion-MNIST test image (default 0)
          --seed S           seed of the random weights (default 7)
          --unit Y,X         the first layer's output unit for the tables (default: the one with the
                             largest offset gradient)
          --attention        take one query of multi-scale deformable attention apart instead (a
                             three-level pyramid of the image; its sampling points over the levels,
                             their corner terms, the engine's backward, central differences, ablation)
          --query Y,X        the attention query: a pixel of the 28×28 image (default 14,14)
        """;

    public static Options Parse(string[] args)
    {
        var options = new Options(Path.Combine(".", "gradient-flow-output"), null, null, 0, 7, null, false);
        for (int a = 0; a < args.Length; a++)
        {
            string Value() => a + 1 < args.Length ? args[++a] : throw new ArgumentException($"{args[a]}: missing value.");
            options = args[a] switch
            {
                "--out" => options with { Out = Value() },
                "--weights" => options with { Weights = Value() },
                "--image" => options with { Image = ParseImage(Value()) },
                "--synthetic" => options with { Image = "synthetic" },
                "--index" => options with { Index = int.Parse(Value(), CultureInfo.InvariantCulture) },
                "--seed" => options with { Seed = long.Parse(Value(), CultureInfo.InvariantCulture) },
                "--unit" => options with { Unit = ParseUnit(Value()) },
                "--attention" => options with { Attention = true },
                "--query" => options with { Query = ParseUnit(Value(), "--query") },
                "--help" or "-h" => options with { Help = true },
                _ => throw new ArgumentException($"unknown option '{args[a]}'."),
            };
        }
        return options;
    }

    private static string ParseImage(string text) => text is "synthetic" or "fashion-mnist"
        ? text
        : throw new ArgumentException($"--image: expected synthetic or fashion-mnist, got '{text}'.");

    private static (int, int) ParseUnit(string text, string option = "--unit")
    {
        var parts = text.Split(',');
        if (parts.Length != 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out int y) ||
            !int.TryParse(parts[1], CultureInfo.InvariantCulture, out int x))
            throw new ArgumentException($"{option}: expected Y,X (two integers), got '{text}'.");
        return (y, x);
    }
}
