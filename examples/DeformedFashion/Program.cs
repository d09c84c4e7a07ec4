using System.Globalization;
using DeformEngine.Examples.DeformedFashion;
using DeformEngine;
using DeformEngine.Examples;
using DeformEngine.IO;
using Spectre.Console;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 140);
if (!CommandLine.TryParse(args, Options.Usage, Options.Parse, out var options, out int exitCode))
    return exitCode;

var (train, test) = LoadData(options);
var deform = new SeededRandom(options.Seed + 2);
train = RandomAffine.Apply(train, deform);
test = RandomAffine.Apply(test, deform);
AnsiConsole.MarkupLine($"[bold]{Markup.Escape(train.Source)}[/], randomly rotated/scaled/sheared: {train.Count} training and {test.Count} test images, " +
    $"{options.Epochs} epochs, batch {options.BatchSize}, training budget {options.BudgetSeconds:F0} s, seed {options.Seed}.");

var trainer = new Trainer(options, train, test);
var models = new[] { Deformable.None, Deformable.V1, Deformable.V2 }
    .Select(d => new FashionNet(d, train.ClassNames.Length, options.Seed)).ToArray();
var results = new List<RunResult>();
AnsiConsole.Progress()
    .AutoClear(false)
    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
    .Start(context =>
    {
        var tasks = models.Select(m => context.AddTask(m.Name, autoStart: false)).ToArray();
        double remaining = options.BudgetSeconds;
        for (int i = 0; i < models.Length; i++)
        {
            tasks[i].StartTask();
            var task = tasks[i];
            // Each model gets an equal share of what is left, so time a faster model did not use
            // goes to the slower deformable ones.
            var result = trainer.Run(models[i], remaining / (models.Length - i), fraction => task.Value = 100 * fraction);
            remaining = Math.Max(0, remaining - result.TrainSeconds);
            results.Add(result);
            task.Value = 100;
            task.StopTask();
        }
    });

var table = new Table().Title($"Deformed {Markup.Escape(train.Source)}: test accuracy on {test.Count} images")
    .AddColumns("model", "parameters", "test accuracy", "epochs", "time / epoch", "final train loss", "mean |offset| (px)");
foreach (var r in results)
    table.AddRow(
        Markup.Escape(r.Model),
        r.Parameters.ToString("N0", CultureInfo.InvariantCulture),
        $"{100 * r.TestAccuracy:F1} %",
        $"{r.EpochsDone:F2}",
        $"{r.SecondsPerEpoch:F1} s",
        $"{r.FinalTrainLoss:F3}",
        r.Offsets.Count == 0 ? "—" : string.Join(", ", r.Offsets.Select(o => $"{o.Layer} {o.MeanAbsOffset:F3}")));
AnsiConsole.Write(table);
if (results.Any(r => r.EpochsDone < options.Epochs - 1e-9))
    AnsiConsole.MarkupLine("[yellow]Some models stopped before their last epoch: the time budget ran out (raise --budget-seconds or lower --train).[/]");

if (options.SaveWeights is { } path)
{
    var dcn = models.Single(m => m.Deformable == Deformable.V2);
    dcn.SaveSafeTensors(path, new Dictionary<string, string>
    {
        ["model"] = "DeformedFashion.FashionNet",
        ["deformable"] = "conv2, conv3: DeformConv2d(modulation: true), mmcv ModulatedDeformConv2dPack names",
        ["classes"] = string.Join(",", train.ClassNames),
        ["data"] = train.Source,
    });
    AnsiConsole.MarkupLine($"Saved the DCNv2 model's weights to [bold]{Markup.Escape(path)}[/].");
}
return 0;

static (Dataset Train, Dataset Test) LoadData(Options options)
{
    var random = new SeededRandom(options.Seed);
    if (!options.Synthetic && FashionMnist.IsPresent(options.DataDirectory))
    {
        var (fullTrain, fullTest) = FashionMnist.Load(options.DataDirectory);
        return (fullTrain.Subset(options.Train, random), fullTest.Subset(options.Test, random));
    }
    if (!options.Synthetic)
        AnsiConsole.MarkupLine($"[yellow]Fashion-MNIST not found in {Markup.Escape(options.DataDirectory)}.[/] Install it with " +
            "[bold]sudo apt-get install dataset-fashion-mnist[/] (or pass --data DIR).\n" +
            "[yellow]Falling back to the built-in SYNTHETIC SHAPES data set: the numbers below are not Fashion-MNIST results.[/]");
    return (SyntheticShapes.Generate(options.Train, random), SyntheticShapes.Generate(options.Test, random));
}
