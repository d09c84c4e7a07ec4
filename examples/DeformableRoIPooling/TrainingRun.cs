using System.Diagnostics;
using DeformEngine.Optim;

namespace DeformEngine.Examples.DeformableRoIPooling;

/// <summary>One detector in training: Adam, a cosine schedule over the planned epochs, the backbone's
/// DCN offset branch at <see cref="TrainSettings.DcnOffsetLrMultiplier"/> (the DCN papers' 0.1×), the
/// RoI offset branches at the base rate (as mmdetection trains them); fresh proposal jitter every
/// epoch. Data order and jitter come from the seed alone, so runs with the same seed see the same
/// batches. <see cref="RunEpoch"/> trains one epoch at a time, so that several runs can take turns.</summary>
internal sealed class TrainingRun
{
    private readonly Trainer _trainer;
    private readonly Adam<float> _optimizer;
    private readonly CosineAnnealingLR _schedule;
    private readonly SeededRandom _shuffle, _jitter;
    private readonly List<EpochStats> _epochs = [];

    public TrainingRun(Trainer trainer, string name, TwoStageDetector model, TrainSettings settings)
    {
        _trainer = trainer;
        Name = name;
        Model = model;
        Settings = settings;
        _optimizer = new Adam<float>(ParameterGroup<float>.SplitOffsets(model, settings.DcnOffsetLrMultiplier), settings.LearningRate);
        _schedule = new CosineAnnealingLR(_optimizer, settings.Epochs);
        _shuffle = new SeededRandom(settings.Seed + 101);
        _jitter = new SeededRandom(settings.Seed + 202);
    }

    public string Name { get; }
    public TwoStageDetector Model { get; }
    public TrainSettings Settings { get; }
    public IReadOnlyList<EpochStats> Epochs => _epochs;
    public double TrainSeconds { get; private set; }

    /// <summary>Seconds the last epoch took, its test evaluation included (0 before the first).</summary>
    public double LastEpochSeconds { get; private set; }

    /// <summary>Trains one epoch, then measures the test RoI accuracy.</summary>
    /// <param name="progress">Called after each batch with the fraction of this epoch done.</param>
    public void RunEpoch(Action<double>? progress = null)
    {
        var train = _trainer.Train;
        var clock = Stopwatch.StartNew();
        Model.Train();
        var proposals = train.Select((scene, i) => (IReadOnlyList<RoiSample>)Proposals.For(scene, i, _jitter)).ToList();
        var order = Permutation(train.Count, _shuffle);
        int batchSize = Settings.BatchSize, batches = (train.Count + batchSize - 1) / batchSize;
        double lossSum = 0, mimicSum = 0;
        int mimicSteps = 0;
        for (int b = 0; b < batches; b++)
        {
            var indices = order.Skip(b * batchSize).Take(batchSize).ToArray();
            var batch = Batch.Build(train, indices, proposals);
            _optimizer.ZeroGrad();
            var (loss, detection, mimic) = Trainer.Loss(Model, batch, Settings);
            loss.Backward();
            _optimizer.Step();
            lossSum += detection;
            if (mimic is { } m)
            {
                mimicSum += m;
                mimicSteps++;
            }
            progress?.Invoke((b + 1.0) / batches);
        }
        _schedule.Step();
        TrainSeconds += clock.Elapsed.TotalSeconds;
        double accuracy = _trainer.Evaluate(Model, Settings, withMimicDistance: false).RoiAccuracy;
        _epochs.Add(new EpochStats(lossSum / batches, mimicSteps > 0 ? mimicSum / mimicSteps : double.NaN, accuracy));
        LastEpochSeconds = clock.Elapsed.TotalSeconds;
    }

    /// <summary>The final evaluation on the test set.</summary>
    public RunResult Finish() =>
        new(Name, Model, Settings.Mimic, _trainer.Evaluate(Model, Settings, withMimicDistance: true), _epochs.ToList(), TrainSeconds, _epochs.Count);

    private static int[] Permutation(int count, SeededRandom random)
    {
        var order = Enumerable.Range(0, count).ToArray();
        for (int i = count - 1; i > 0; i--)
        {
            int j = random.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
