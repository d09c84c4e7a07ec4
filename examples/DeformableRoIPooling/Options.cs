namespace DeformEngine.Examples.DeformableRoIPooling;

/// <summary>Command-line settings. The defaults keep the whole run (four heads without mimicking,
/// two with) under five minutes on two cores.</summary>
internal sealed record Options
{
    public int Train { get; init; } = 480;
    public int Test { get; init; } = 120;
    public int Epochs { get; init; } = 6;
    public int BatchSize { get; init; } = 8;
    public double LearningRate { get; init; } = 3e-3;
    public double MimicWeight { get; init; } = 1;
    public double BudgetSeconds { get; init; } = 250;
    public long Seed { get; init; } = 1;
    public string DataDirectory { get; init; } = FashionMnistIdx.DefaultDirectory;
    public bool Synthetic { get; init; }
    public bool NoMimic { get; init; }
    public bool MimicAll { get; init; }
    public string Out { get; init; } = "deformable-roi-pooling-output";

    public const string Usage = """
        DeformableRoIPooling: a small two-stage detector on canvases of deformed Fashion-MNIST items,
        with four RoI heads (RoI Align, DeformRoIPool, ModulatedDeformRoIPool, DeformPSRoIPool) trained
        on the same data and seeds, and RoI Align and ModulatedDeformRoIPool again with R-CNN feature
        mimicking (DCNv2 §3.3).

          --train N             training canvases (default 480)
          --test N              test canvases (default 120)
          --epochs E            epochs per run (default 6)
          --batch B             canvases per batch (default 8)
          --lr X                Adam learning rate (default 0.003, cosine-annealed per epoch)
          --mimic-weight X      weight of the mimic loss (default 1)
          --no-mimic            train only the four runs without mimicking
          --mimic-all           train all four heads with mimicking too (eight runs: raise the budget)
          --budget-seconds S    training time for all runs together; the runs take turns one epoch
                                at a time, and no new round starts that would not fit (default 250)
          --seed S              seed of data, proposals, init and shuffling (default 1)
          --data DIR            Fashion-MNIST folder (default /usr/share/datasets/fashion-mnist)
          --synthetic           use built-in synthetic shapes instead of Fashion-MNIST
          --out DIR             folder for the figures (default ./deformable-roi-pooling-output)
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
                "--batch" => options with { BatchSize = line.PositiveInt() },
                "--lr" => options with { LearningRate = line.NonNegative() },
                "--mimic-weight" => options with { MimicWeight = line.NonNegative() },
                "--no-mimic" => options with { NoMimic = true },
                "--mimic-all" => options with { MimicAll = true },
                "--budget-seconds" => options with { BudgetSeconds = line.NonNegative() },
                "--seed" => options with { Seed = line.Integer() },
                "--data" => options with { DataDirectory = line.Value() },
                "--synthetic" => options with { Synthetic = true },
                "--out" => options with { Out = line.Value() },
                _ => throw new ArgumentException($"unknown option '{flag}'."),
            };
        return options;
    }
}
