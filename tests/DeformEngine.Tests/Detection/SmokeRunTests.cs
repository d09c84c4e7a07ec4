using DeformEngine.Examples.DeformableRoIPooling;
using DeformEngine.Tests.Plots;
using Spectre.Console;

namespace DeformEngine.Tests.Detection;

[TestClass]
public class SmokeRunTests
{
    [TestMethod]
    public void Experiment_OneEpochOnATinySet_TableAndThreeFigures()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"deformengine-detector-smoke-{Environment.ProcessId}");
        var options = new Options { Train = 8, Test = 4, Epochs = 1, BatchSize = 4, Synthetic = true, Out = folder, Seed = 3 };
        var random = new SeededRandom(11);
        var experiment = new Experiment(options, SyntheticItems.Generate(60, random), SyntheticItems.Generate(20, random));
        try
        {
            var results = experiment.RunAll();
            CollectionAssert.AreEqual(experiment.Plan().Select(p => p.Name).ToList(), results.Select(r => r.Name).ToList());
            Assert.HasCount(6, results, "four heads, and two of them again with mimicking");
            foreach (var r in results)
            {
                Assert.AreEqual(1, r.EpochsDone, r.Name);
                Assert.HasCount(1, r.Epochs, r.Name);
                Assert.IsTrue(double.IsFinite(r.Epochs[0].DetectionLoss), r.Name);
                Assert.IsTrue(r.Test.RoiAccuracy is >= 0 and <= 1 && r.Test.MeanIoU is > 0 and <= 1, r.Name);
                Assert.IsTrue(double.IsFinite(r.Test.MimicDistance), r.Name);
                Assert.AreEqual(r.Mimic, double.IsFinite(r.Epochs[0].MimicLoss), $"{r.Name}: a mimic loss only with mimicking");
            }

            var text = new StringWriter();
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(text), ColorSystem = ColorSystemSupport.NoColors });
            console.Profile.Width = 240;
            console.Write(experiment.Table(results));
            foreach (var head in new[] { "RoIAlign", "DeformRoIPool", "ModulatedDeformRoIPool", "DeformPSRoIPool" })
                StringAssert.Contains(text.ToString(), head);

            var written = experiment.WriteFigures(results);
            CollectionAssert.AreEqual(new[] { "roi-bins.png", "modulation.png", "training-curves.png" }, written.Select(Path.GetFileName).ToArray());
            foreach (var path in written)
                Assert.IsGreaterThan(300, PngReader.Read(File.ReadAllBytes(path)).Width, path);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void Trainer_FourEpochsOnATinySet_DetectionLossFalls()
    {
        var random = new SeededRandom(21);
        var items = SyntheticItems.Generate(60, random);
        var train = SceneGenerator.Generate(items, 16, new SeededRandom(22));
        var test = SceneGenerator.Generate(items, 4, new SeededRandom(23));
        var proposals = test.Select((s, i) => (IReadOnlyList<RoiSample>)Proposals.For(s, i, new SeededRandom(24))).ToList();
        var result = new Trainer(train, test, proposals).Run("t", new TwoStageDetector(HeadKind.DeformRoIPool, items.ClassNames.Length, 25),
            new TrainSettings(Epochs: 4, BatchSize: 4, LearningRate: 3e-3, Seed: 26));
        Assert.HasCount(4, result.Epochs);
        Assert.IsLessThan(0.8 * result.Epochs[0].DetectionLoss, result.Epochs[^1].DetectionLoss, "the loss falls by a fifth or more");
        Assert.IsGreaterThan(0, result.Test.MeanBinOffset, "the bins moved");
    }
}
