using System.Globalization;
using DeformEngine.Plotting;
using Spectre.Console;

namespace DeformEngine.Examples.DeformableRoIPooling;

/// <summary>One row of the comparison: a head, trained with or without mimicking.</summary>
internal sealed record RunPlan(HeadKind Kind, bool Mimic)
{
    public string Name => $"{HeadName(Kind)}{(Mimic ? " + mimic" : "")}";

    public static string HeadName(HeadKind kind) => kind switch
    {
        HeadKind.RoIAlign => "RoIAlign",
        HeadKind.DeformRoIPool => "DeformRoIPool",
        HeadKind.ModulatedDeformRoIPool => "ModulatedDeformRoIPool",
        _ => "DeformPSRoIPool",
    };
}

/// <summary>The data, the runs, the table and the figures of the example.</summary>
internal sealed class Experiment
{
    private readonly Options _options;

    public Experiment(Options options, ItemSet trainItems, ItemSet testItems)
    {
        _options = options;
        ClassNames = trainItems.ClassNames;
        Train = SceneGenerator.Generate(trainItems, options.Train, new SeededRandom(options.Seed));
        Test = SceneGenerator.Generate(testItems, options.Test, new SeededRandom(options.Seed + 1));
        var proposals = new SeededRandom(options.Seed + 3);
        TestProposals = Test.Select((scene, i) => (IReadOnlyList<RoiSample>)Proposals.For(scene, i, proposals)).ToList();
    }

    public string[] ClassNames { get; }
    public Scene[] Train { get; }
    public Scene[] Test { get; }
    public IReadOnlyList<IReadOnlyList<RoiSample>> TestProposals { get; }

    /// <summary>The four heads without mimicking, then RoI Align and the modulated head with it
    /// (DCNv2's ablation: mimicking with regular and with modulated deformable pooling), or all
    /// four with <see cref="Options.MimicAll"/>.</summary>
    public IReadOnlyList<RunPlan> Plan()
    {
        var kinds = Enum.GetValues<HeadKind>();
        var plan = kinds.Select(k => new RunPlan(k, false)).ToList();
        if (_options.NoMimic) return plan;
        var mimicked = _options.MimicAll ? kinds : [HeadKind.RoIAlign, HeadKind.ModulatedDeformRoIPool];
        plan.AddRange(mimicked.Select(k => new RunPlan(k, true)));
        return plan;
    }

    /// <summary>Trains the runs of <see cref="Plan"/> taking turns, one epoch each per round, so that
    /// all of them have done the same number of epochs when the training budget
    /// (<see cref="Options.BudgetSeconds"/>) stops them: a round starts only when the last round's
    /// time still fits. <see cref="Truncated"/> tells whether that happened.</summary>
    /// <param name="progress">Per run, a callback that receives the fraction of its planned epochs done.</param>
    public List<RunResult> RunAll(Func<RunPlan, Action<double>>? progress = null)
    {
        var trainer = new Trainer(Train, Test, TestProposals);
        var plan = Plan();
        var runs = plan.Select(p => trainer.Start(p.Name, new TwoStageDetector(p.Kind, ClassNames.Length, _options.Seed),
            new TrainSettings(Epochs: _options.Epochs, BatchSize: _options.BatchSize, LearningRate: _options.LearningRate,
                Mimic: p.Mimic, MimicWeight: _options.MimicWeight, Seed: _options.Seed))).ToList();
        var reporters = plan.Select(p => progress?.Invoke(p)).ToList();
        double spent = 0;
        Truncated = false;
        for (int epoch = 0; epoch < _options.Epochs; epoch++)
        {
            double lastRound = runs.Sum(r => r.LastEpochSeconds);
            if (epoch > 0 && spent + lastRound > _options.BudgetSeconds)
            {
                Truncated = true;
                break;
            }
            for (int i = 0; i < runs.Count; i++)
            {
                var report = reporters[i];
                int done = epoch;
                runs[i].RunEpoch(report is null ? null : fraction => report((done + fraction) / _options.Epochs));
                spent += runs[i].LastEpochSeconds;
            }
        }
        return runs.Select(r => r.Finish()).ToList();
    }

    /// <summary>Whether the last <see cref="RunAll"/> stopped before the planned epochs.</summary>
    public bool Truncated { get; private set; }

    public Table Table(IReadOnlyList<RunResult> results)
    {
        int testRois = TestProposals.Sum(p => p.Count), testObjects = TestProposals.Sum(p => p.Count(s => s.IsObject));
        double proposalIoU = results.Count > 0 ? results[0].Test.ProposalIoU : double.NaN;
        var table = new Table()
            .Title($"RoI heads on {Test.Length} test canvases: {testRois} RoIs, {testObjects} on objects (proposals' mean IoU before regression {proposalIoU:F3})")
            .Caption("mean |bin offset|: length of the learned bin displacement in RoI widths/heights; 1 − cos to R-CNN: the mimic loss on the test objects' RoIs")
            .AddColumns("head", "mimicking", "RoI accuracy", "object accuracy", "mean IoU (regressed)", "epochs", "time / epoch",
                "mean |bin offset|", "1 − cos to R-CNN");
        foreach (var r in results)
            table.AddRow(
                Markup.Escape(RunPlan.HeadName(r.Model.Kind)),
                r.Mimic ? "yes" : "no",
                Percent(r.Test.RoiAccuracy),
                Percent(r.Test.ObjectAccuracy),
                r.Test.MeanIoU.ToString("F3", CultureInfo.InvariantCulture),
                r.EpochsDone.ToString(CultureInfo.InvariantCulture),
                $"{r.SecondsPerEpoch.ToString("F1", CultureInfo.InvariantCulture)} s",
                r.Model.Pooling.Deformable ? r.Test.MeanBinOffset.ToString("F4", CultureInfo.InvariantCulture) : "—",
                r.Test.MimicDistance.ToString("F4", CultureInfo.InvariantCulture));
        return table;
    }

    /// <summary>Writes roi-bins.png, modulation.png and training-curves.png into <see cref="Options.Out"/>
    /// (the first from the DeformRoIPool run, the second from the modulated one, each the run without
    /// mimicking) and returns their paths.</summary>
    public List<string> WriteFigures(IReadOnlyList<RunResult> results)
    {
        Directory.CreateDirectory(_options.Out);
        var written = new List<string>();
        void Save(Figure figure, string name)
        {
            string path = Path.Combine(_options.Out, name);
            figure.SavePng(path);
            written.Add(path);
        }
        var canvases = Figures.PickCanvases(Test, 3);
        var deform = results.FirstOrDefault(r => r.Model.Kind == HeadKind.DeformRoIPool && !r.Mimic);
        if (deform is not null)
            Save(DetectionPlots.RoIBins(Figures.Views(deform.Model, Test, canvases, ClassNames),
                "Deformable RoI pooling (DCNv1) on test canvases: regular 7x7 bins vs the bins its offsets moved, ground-truth boxes as RoIs",
                "learned bins (DeformRoIPool)"), "roi-bins.png");
        var modulated = results.FirstOrDefault(r => r.Model.Kind == HeadKind.ModulatedDeformRoIPool && !r.Mimic);
        if (modulated is not null)
            Save(DetectionPlots.Modulation(Figures.Views(modulated.Model, Test, canvases, ClassNames),
                "Modulated deformable RoI pooling (DCNv2): the learned modulation of each bin, ground-truth boxes as RoIs", RoIPooling.Bins),
                "modulation.png");
        var curves = results.Select(r => new TrainingCurve(r.Name, r.Epochs.Select(e => e.DetectionLoss).ToList(),
            r.Epochs.Select(e => e.TestRoiAccuracy).ToList(), (int)r.Model.Kind, r.Mimic)).ToList();
        Save(DetectionPlots.TrainingCurves(curves, "Training per head (dashed: with R-CNN feature mimicking)",
            "detection loss (classification + box), epoch mean", "test RoI accuracy"), "training-curves.png");
        return written;
    }

    private static string Percent(double value) => $"{(100 * value).ToString("F1", CultureInfo.InvariantCulture)} %";
}
