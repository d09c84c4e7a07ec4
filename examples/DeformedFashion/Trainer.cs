using System.Diagnostics;
using DeformEngine;
using DeformEngine.Optim;

namespace DeformEngine.Examples.DeformedFashion;

/// <summary>What one model reached.</summary>
internal sealed record RunResult(string Model, long Parameters, double TestAccuracy, double EpochsDone,
    double TrainSeconds, double SecondsPerEpoch, double FinalTrainLoss, IReadOnlyList<(string Layer, double MeanAbsOffset)> Offsets);

/// <summary>Adam with the offset/mask branches in a group of their own (learning-rate multiplier),
/// a cosine schedule over the epochs, seeded shuffling, and a time budget checked between batches.</summary>
internal sealed class Trainer(Options options, Dataset train, Dataset test)
{
    public RunResult Run(FashionNet model, double budgetSeconds, Action<double> reportProgress)
    {
        var optimizer = new Adam<float>(ParameterGroup<float>.SplitOffsets(model, options.OffsetLrMultiplier), options.LearningRate);
        var schedule = new CosineAnnealingLR(optimizer, options.Epochs);
        var shuffle = new SeededRandom(options.Seed + 17);
        int batches = (train.Count + options.BatchSize - 1) / options.BatchSize;
        var clock = Stopwatch.StartNew();
        int imagesSeen = 0;
        double lossSum = 0;
        int lossCount = 0;
        bool outOfTime = false;
        model.Train();
        for (int epoch = 0; epoch < options.Epochs && !outOfTime; epoch++)
        {
            var order = Permutation(train.Count, shuffle);
            lossSum = 0;
            lossCount = 0;
            for (int b = 0; b < batches; b++)
            {
                if (clock.Elapsed.TotalSeconds > budgetSeconds)
                {
                    outOfTime = true;
                    break;
                }
                var indices = order.AsSpan(b * options.BatchSize, Math.Min(options.BatchSize, train.Count - b * options.BatchSize)).ToArray();
                var (images, labels) = Batch(train, indices);
                optimizer.ZeroGrad();
                var loss = Functional.CrossEntropy(model.Forward(images), labels);
                loss.Backward();
                optimizer.Step();
                lossSum += loss.Item() * indices.Length;
                lossCount += indices.Length;
                imagesSeen += indices.Length;
                reportProgress((double)imagesSeen / (options.Epochs * train.Count));
            }
            schedule.Step();
        }
        double trainSeconds = clock.Elapsed.TotalSeconds;
        double epochsDone = (double)imagesSeen / train.Count;
        var (accuracy, offsets) = Evaluate(model);
        return new RunResult(model.Name, model.ParameterCount, accuracy, epochsDone, trainSeconds, trainSeconds / Math.Max(epochsDone, 1e-9),
            lossCount > 0 ? lossSum / lossCount : double.NaN, offsets);
    }

    /// <summary>Test accuracy, and the mean |offset| (pixels) of each deformable layer over the test set.</summary>
    private (double Accuracy, IReadOnlyList<(string, double)> Offsets) Evaluate(FashionNet model)
    {
        model.Eval();
        var layers = model.DeformableLayers.ToList();
        var offsetSums = new double[layers.Count];
        int correct = 0;
        using (Autograd.NoGrad())
        {
            for (int start = 0; start < test.Count; start += options.BatchSize)
            {
                var indices = Enumerable.Range(start, Math.Min(options.BatchSize, test.Count - start)).ToArray();
                var (images, labels) = Batch(test, indices);
                var logits = model.Forward(images).ToArray();
                int classes = logits.Length / indices.Length;
                for (int i = 0; i < indices.Length; i++)
                {
                    int best = 0;
                    for (int k = 1; k < classes; k++)
                        if (logits[i * classes + k] > logits[i * classes + best]) best = k;
                    if (best == labels[i]) correct++;
                }
                for (int l = 0; l < layers.Count; l++)
                    offsetSums[l] += layers[l].Layer.LastOffset!.Abs().Mean().Item() * indices.Length;
            }
        }
        model.Train();
        var offsets = layers.Select((l, i) => (l.Name, offsetSums[i] / test.Count)).ToList();
        return ((double)correct / test.Count, offsets);
    }

    private static (Tensor<float> Images, int[] Labels) Batch(Dataset data, int[] indices)
    {
        var images = Tensor<float>.Zeros(indices.Length, 1, Dataset.Side, Dataset.Side);
        var pixels = images.AsSpan();
        var labels = new int[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            data.Image(indices[i]).CopyTo(pixels.Slice(i * Dataset.ImageSize, Dataset.ImageSize));
            labels[i] = data.Labels[indices[i]];
        }
        return (images, labels);
    }

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
