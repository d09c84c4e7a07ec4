namespace DeformEngine.Examples.DeformedFashion;

/// <summary>Command-line settings. The defaults keep the whole run (three models) under five
/// minutes on two cores (about three with the fast CPU path).</summary>
internal sealed record Options
{
    public int Train { get; init; } = 12000;
    public int Test { get; init; } = 2000;
    public int Epochs { get; init; } = 5;
    public int BatchSize { get; init; } = 32;
    public double BudgetSeconds { get; init; } = 210;
    public double LearningRate { get; init; } = 3e-3;
    public double OffsetLrMultiplier { get; init; } = 0.1;
    public long Seed { get; init; } = 1;
    public string DataDirectory { get; init; } = FashionMnistIdx.DefaultDirectory;
    public string? SaveWeights { get; init; }
    public bool Synthetic { get; init; }

    public const string Usage = """
        DeformedFashion: a plain CNN, the same with DCNv1 and with DCNv2, trained on randomly
        rotated/scaled/sheared Fashion-MNIST images.

          --train N             training images (default 12000)
          --test N              test images (default 2000)
          --epochs E            epochs per model (default 5)
          --budget-seconds S    training time for all three models together; each gets an equal
                                share of what is left and stops early when it is spent (default 210)
          --batch B             batch size (default 32)
          --lr X                Adam learning rate (default 0.003, cosine-annealed per epoch)
          --offset-lr-mult X    learning-rate multiplier of the offset/mask branches (default 0.1)
          --seed S              seed of data subset, deformations, init and shuffling (default 1)
          --data DIR            Fashion-MNIST folder (default /usr/share/datasets/fashion-mnist)
          --synthetic           use the built-in synthetic shapes instead of Fashion-MNIST
          --save-weights PATH   save the DCNv2 model's weights as safetensors
        """;

    public static Options Parse(CommandLine line)
    {
        var options = new Options();
        while (line.NextFlag(out string flag))
            options = flag switch
            {
                "--train" => options with { Train = line.PositiveInt() },
                "--test" => options with { Test = line.PositiveInt() },
                "--epochs" => options with { Epochs = line.PositiveInt() },
                "--budget-seconds" => options with { BudgetSeconds = line.NonNegative() },
                "--batch" => options with { BatchSize = line.PositiveInt() },
                "--lr" => options with { LearningRate = line.NonNegative() },
                "--offset-lr-mult" => options with { OffsetLrMultiplier = line.NonNegative() },
                "--seed" => options with { Seed = line.Integer() },
                "--data" => options with { DataDirectory = line.Value() },
                "--synthetic" => options with { Synthetic = true },
                "--save-weights" => options with { SaveWeights = line.Value() },
                _ => throw new ArgumentException($"unknown option '{flag}'."),
            };
        return options;
    }
}
