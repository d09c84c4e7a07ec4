using System.Diagnostics;
using System.Globalization;
using DeformEngine;
using DeformEngine.Examples;
using DeformEngine.Examples.DeformableRoIPooling;
using Spectre.Console;

// A small two-stage detector on canvases of deformed Fashion-MNIST items: RoI Align and the three
// deformable RoI poolings side by side, and R-CNN feature mimicking (DCNv2 §3.3) with and without.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 180);
if (!CommandLine.TryParse(args, Options.Usage, Options.Parse, out var options, out int exitCode))
    return exitCode;

var clock = Stopwatch.StartNew();
var (trainItems, testItems) = LoadItems(options);
var experiment = new Experiment(options, trainItems, testItems);
AnsiConsole.MarkupLine($"[bold]{Markup.Escape(trainItems.Source)}[/] items, randomly scaled, rotated, sheared and warped, one to three per " +
    $"96×96 canvas: {options.Train} training and {options.Test} test canvases; proposals = jittered ground truth + background boxes. " +
    $"{options.Epochs} epochs, batch {options.BatchSize} canvases, training budget {options.BudgetSeconds:F0} s, seed {options.Seed}. " +
    "The runs take turns, one epoch each.");

var results = new List<RunResult>();
AnsiConsole.Progress()
    .AutoClear(false)
    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
    .Start(context =>
    {
        var tasks = experiment.Plan().ToDictionary(p => p, p => context.AddTask(Markup.Escape(p.Name), autoStart: false));
        results = experiment.RunAll(plan =>
        {
            var task = tasks[plan];
            task.StartTask();
            return fraction =>
            {
                task.Value = 100 * fraction;
                if (fraction >= 1) task.StopTask();
            };
        });
        foreach (var task in tasks.Values)
        {
            task.Value = 100;
            task.StopTask();
        }
    });

AnsiConsole.Write(experiment.Table(results));
if (experiment.Truncated)
    AnsiConsole.MarkupLine($"[yellow]The training budget ran out after {results[0].EpochsDone} of {options.Epochs} epochs (every run did as many; " +
        "raise --budget-seconds or lower --train).[/]");
var written = experiment.WriteFigures(results);
AnsiConsole.MarkupLine("pictures:");
foreach (var path in written) AnsiConsole.MarkupLine($"  {Markup.Escape(path)}");
AnsiConsole.MarkupLine($"total wall time {clock.Elapsed.TotalSeconds:F0} s");
return 0;

static (ItemSet Train, ItemSet Test) LoadItems(Options options)
{
    if (!options.Synthetic && FashionMnist.IsPresent(options.DataDirectory)) return FashionMnist.Load(options.DataDirectory);
    if (!options.Synthetic)
        AnsiConsole.MarkupLine($"[yellow]Fashion-MNIST not found in {Markup.Escape(options.DataDirectory)}.[/] Install it with " +
            "[bold]sudo apt-get install dataset-fashion-mnist[/] (or pass --data DIR).\n" +
            "[yellow]Falling back to built-in SYNTHETIC SHAPES: the numbers below are not Fashion-MNIST results.[/]");
    var random = new SeededRandom(options.Seed + 7);
    return (SyntheticItems.Generate(2000, random), SyntheticItems.Generate(500, random));
}
