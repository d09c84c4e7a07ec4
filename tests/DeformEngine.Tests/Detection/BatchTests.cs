using DeformEngine.Examples.DeformableRoIPooling;

namespace DeformEngine.Tests.Detection;

[TestClass]
public class BatchTests
{
    // Box targets are stored in float.
    private const double FloatTolerance = 1e-4;

    [TestMethod]
    public void Build_ObjectRoIsFirst_WithTheirBoxTargets()
    {
        var scenes = SceneGenerator.Generate(SyntheticItems.Generate(20, new SeededRandom(1)), 6, new SeededRandom(2));
        var random = new SeededRandom(3);
        var proposals = scenes.Select((s, i) => (IReadOnlyList<RoiSample>)Proposals.For(s, i, random)).ToList();
        var batch = Batch.Build(scenes, [4, 1, 5], proposals);

        Assert.AreEqual(proposals[4].Count + proposals[1].Count + proposals[5].Count, batch.Targets.Length);
        CollectionAssert.AreEqual(new[] { 3, 1, 96, 96 }, batch.Images.Shape);
        CollectionAssert.AreEqual(scenes[1].Pixels, batch.Images.ToArray().Skip(96 * 96).Take(96 * 96).ToArray(), "canvas 1 is image 1 of the batch");
        Assert.IsTrue(batch.Targets.Take(batch.Objects).All(t => t > 0) && batch.Targets.Skip(batch.Objects).All(t => t == 0), "objects first");
        var rois = batch.Rois.ToArray();
        var targets = batch.BoxTargets!.ToArray();
        for (int k = 0; k < batch.Targets.Length; k++)
        {
            var sample = batch.Samples[k];
            Assert.AreEqual(sample.Image, (int)rois[k * 5]);
            Assert.AreEqual((float)sample.Proposal.X2, rois[k * 5 + 3]);
            if (k >= batch.Objects) continue;
            var decoded = BoxCoder.Decode(sample.Proposal, targets.AsSpan(k * 4, 4));
            Assert.AreEqual(sample.GroundTruth!.Value.X1, decoded.X1, FloatTolerance);
            Assert.AreEqual(sample.GroundTruth!.Value.Y2, decoded.Y2, FloatTolerance);
        }
        var fromCanvas4 = batch.Samples.Where(s => s.Image == 0).Select(s => s.Proposal).ToHashSet();
        Assert.IsTrue(proposals[4].All(p => fromCanvas4.Contains(p.Proposal)), "canvas 4's RoIs point at image 0");
    }

    [TestMethod]
    public void RcnnCrop_LinearImage_BilinearSamplesAtTheGridCentres()
    {
        // f(y, x) = 0.01·(3y + 5x) + 0.1 over pixel indices: bilinear interpolation of a linear
        // function is exact, so each crop pixel is f at its sample point, y1 + (i + ½)·h/S − ½.
        const int size = 20, crop = 8;
        var pixels = new float[size * size];
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
                pixels[y * size + x] = 0.01f * (3 * y + 5 * x) + 0.1f;
        var images = Tensor<float>.FromArray(pixels, 1, 1, size, size);
        var box = new Box(2.5, 4, 14.5, 16);
        var result = RcnnCrop.Crop(images, Batch.RoiTensor([new RoiSample(0, box, 1, box)]), crop).ToArray();
        Assert.HasCount(crop * crop, result);
        for (int i = 0; i < crop; i++)
            for (int j = 0; j < crop; j++)
            {
                double y = box.Y1 + (i + 0.5) * box.Height / crop - 0.5, x = box.X1 + (j + 0.5) * box.Width / crop - 0.5;
                Assert.AreEqual(0.01 * (3 * y + 5 * x) + 0.1, result[i * crop + j], 1e-5, $"crop pixel ({i}, {j})");
            }
    }

    [TestMethod]
    public void WholeCropRois_CoverEachCrop()
    {
        var rois = RcnnCrop.WholeCropRois(2, 32).ToArray();
        CollectionAssert.AreEqual(new float[] { 0, 0, 0, 32, 32, 1, 0, 0, 32, 32 }, rois);
    }
}
