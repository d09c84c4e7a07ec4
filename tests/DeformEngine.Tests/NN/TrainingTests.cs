using DeformEngine.NN;
using DeformEngine.Optim;

namespace DeformEngine.Tests.NN;

[TestClass]
public class TrainingTests
{
    /// <summary>A class of images that differ by where a bright bar lies: the deformable layer can
    /// only fit them by moving its samples, so its offsets have to leave zero.</summary>
    private static (Tensor<float> Images, int[] Labels) Bars(int count, long seed)
    {
        var random = new SeededRandom(seed);
        var images = Tensor<float>.Zeros(count, 1, 8, 8);
        var labels = new int[count];
        var data = images.AsSpan();
        for (int n = 0; n < count; n++)
        {
            labels[n] = random.NextInt(2);
            int position = 1 + random.NextInt(6);
            for (int k = 0; k < 8; k++)
            {
                int index = labels[n] == 0 ? position * 8 + k : k * 8 + position;
                data[n * 64 + index] = 1;
            }
        }
        return (images, labels);
    }

    [TestMethod]
    public void DeformConv2d_ShortTraining_LossFallsAndOffsetsLeaveZero()
    {
        var random = new SeededRandom(5);
        var dcn = new DeformConv2d<float>(1, 4, modulation: true, random: random);
        var model = new Sequential<float>(dcn, new ReLU<float>(), new MaxPool2d<float>(2), new Flatten<float>(), new Linear<float>(4 * 16, 2, random: random));
        var optimizer = new Adam<float>(ParameterGroup<float>.SplitOffsets(model, offsetLrMultiplier: 0.1), learningRate: 0.02);
        var (images, labels) = Bars(32, 6);

        float firstLoss = 0, lastLoss = 0;
        for (int step = 0; step < 25; step++)
        {
            optimizer.ZeroGrad();
            var loss = Functional.CrossEntropy(model.Forward(images), labels);
            loss.Backward();
            optimizer.Step();
            if (step == 0) firstLoss = loss.Item();
            lastLoss = loss.Item();
        }
        double meanAbsOffset = dcn.LastOffset!.Abs().Mean().Item();
        Assert.IsTrue(lastLoss < 0.5f * firstLoss, $"loss {firstLoss} → {lastLoss}");
        Assert.IsTrue(meanAbsOffset > 1e-3, $"mean |offset| {meanAbsOffset}");
        Assert.IsTrue(dcn.LastMask!.ToArray().Any(m => Math.Abs(m - 0.5f) > 1e-4), "masks moved from σ(0)");
    }
}
