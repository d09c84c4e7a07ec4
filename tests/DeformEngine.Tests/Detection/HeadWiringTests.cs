using DeformEngine.Examples.DeformableRoIPooling;

namespace DeformEngine.Tests.Detection;

[TestClass]
public class HeadWiringTests
{
    // Float features through the same bilinear samples in a different order of summation.
    private const float PoolTolerance = 1e-5f;

    [TestMethod]
    [DataRow(HeadKind.RoIAlign)]
    [DataRow(HeadKind.DeformRoIPool)]
    [DataRow(HeadKind.ModulatedDeformRoIPool)]
    [DataRow(HeadKind.DeformPSRoIPool)]
    public void Head_EveryKind_FeatureLogitAndBoxShapes(HeadKind kind)
    {
        var model = new TwoStageDetector(kind, classes: 4, seed: 3);
        var (images, rois) = Inputs();
        var features = model.RoIFeatures(model.Backbone.Forward(images), rois);
        CollectionAssert.AreEqual(new[] { 5, TwoStageDetector.FeatureWidth }, features.Shape);
        CollectionAssert.AreEqual(new[] { 5, 5 }, model.Classifier.Forward(features).Shape, "background + 4 classes");
        CollectionAssert.AreEqual(new[] { 5, 4 }, model.BoxRegressor.Forward(features).Shape);
        CollectionAssert.AreEqual(new[] { 5, 5 }, model.RcnnClassifier.Forward(features).Shape);
        Assert.AreEqual(kind != HeadKind.RoIAlign, model.Pooling.LastBinOffsets() is not null);
        Assert.AreEqual(kind == HeadKind.ModulatedDeformRoIPool, model.Pooling.LastModulation() is not null);
    }

    [TestMethod]
    public void DeformablePools_AtInit_AreAlignedRoIAlignAndHalfOfIt()
    {
        // The offset branches end at zero (and the masks at σ(0) = ½), so before training the
        // deformable poolings are aligned RoI Align (the modulated one halved).
        var (images, rois) = Inputs();
        var align = new TwoStageDetector(HeadKind.RoIAlign, 4, seed: 3);
        var features = align.Backbone.Forward(images);
        var expected = align.Pooling.Pool(features, rois).ToArray();
        var deform = new TwoStageDetector(HeadKind.DeformRoIPool, 4, seed: 3).Pooling.Pool(features, rois).ToArray();
        var modulated = new TwoStageDetector(HeadKind.ModulatedDeformRoIPool, 4, seed: 3).Pooling.Pool(features, rois).ToArray();
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(expected[i], deform[i], PoolTolerance, $"DeformRoIPool element {i}");
            Assert.AreEqual(expected[i] / 2, modulated[i], PoolTolerance, $"ModulatedDeformRoIPool element {i}");
        }
    }

    [TestMethod]
    public void Heads_SameSeed_SameBackboneWeights()
    {
        var a = new TwoStageDetector(HeadKind.RoIAlign, 4, seed: 8).StateDict();
        var b = new TwoStageDetector(HeadKind.DeformPSRoIPool, 4, seed: 8).StateDict();
        foreach (var name in a.Keys.Where(k => k.StartsWith("backbone.", StringComparison.Ordinal)))
            CollectionAssert.AreEqual(a[name].ToArray(), b[name].ToArray(), name);
        CollectionAssert.AreEqual(a["fc7.weight"].ToArray(), b["fc7.weight"].ToArray(), "fc7 does not depend on the pooling");
    }

    [TestMethod]
    [DataRow(HeadKind.DeformRoIPool)]
    [DataRow(HeadKind.ModulatedDeformRoIPool)]
    [DataRow(HeadKind.DeformPSRoIPool)]
    public void LastBinOffsets_ConstantBranchOutput_IsGammaTimesItInRoIFractions(HeadKind kind)
    {
        // The last layer of the offset branch is zero: with bias (0.5 for x, −1 for y) every bin moves
        // by γ·(0.5, −1) of the RoI's width and height, whatever the features.
        var model = new TwoStageDetector(kind, 4, seed: 3);
        var bias = model.NamedParameters().Single(p => p.Name == "roi_pool.pool.offset_fc.4.bias").Parameter;
        var values = bias.AsSpan();
        int plane = RoIPooling.Bins * RoIPooling.Bins;
        for (int i = 0; i < plane; i++)
        {
            values[i] = 0.5f;
            values[plane + i] = -1f;
        }
        var (images, rois) = Inputs();
        model.Pooling.Pool(model.Backbone.Forward(images), rois);
        var offsets = model.Pooling.LastBinOffsets()!;
        Assert.HasCount(5 * 2 * plane, offsets);
        for (int k = 0; k < 5; k++)
            for (int i = 0; i < plane; i++)
            {
                Assert.AreEqual(0.5f * RoIPooling.Gamma, offsets[(2 * k) * plane + i], 1e-7, "x");
                Assert.AreEqual(-1f * RoIPooling.Gamma, offsets[(2 * k + 1) * plane + i], 1e-7, "y");
            }
    }

    [TestMethod]
    public void InclusiveCorners_SubtractOneFromTheFarCornerOnly()
    {
        var rois = Tensor<float>.FromArray([1, 2.5f, 3, 10, 12.5f], 1, 5);
        CollectionAssert.AreEqual(new float[] { 1, 2.5f, 3, 9, 11.5f }, RoIPooling.InclusiveCorners(rois).ToArray());
    }

    [TestMethod]
    public void BinGeometry_Deformed_ShiftsEachBinByItsFractionOfTheRoI()
    {
        var roi = new Box(10, 20, 38, 48);   // 28 × 28: bins of 4
        int plane = BinGeometry.Plane;
        var fractions = new float[2 * 2 * plane];
        fractions[2 * plane + 3] = 0.25f;          // RoI 1, x of bin (0, 3)
        fractions[3 * plane + 3] = -0.5f;          // RoI 1, y of bin (0, 3)
        var bins = BinGeometry.Deformed(roi, fractions, 1);
        Assert.AreEqual(new DeformEngine.Plotting.Rect(10 + 12 + 7, 20 - 14, 10 + 16 + 7, 24 - 14), bins[3]);
        Assert.AreEqual(BinGeometry.Regular(roi)[4], bins[4], "other bins stay");
        Assert.AreEqual("fractions", Assert.ThrowsExactly<ArgumentException>(() => BinGeometry.Deformed(roi, fractions, 2)).ParamName);
    }

    [TestMethod]
    public void Loss_WithMimicking_TrainsTheRcnnClassifierAndReportsTheMimicTerm()
    {
        var batch = SmallBatch();
        Assert.IsGreaterThan(0, batch.Objects);
        var settings = new TrainSettings(Mimic: true, MaxMimicRois: 3, CropSize: 24);
        var model = new TwoStageDetector(HeadKind.ModulatedDeformRoIPool, SyntheticItems.ClassNames.Length, seed: 5);
        var (loss, detection, mimic) = Trainer.Loss(model, batch, settings);
        loss.Backward();

        Assert.IsTrue(model.RcnnClassifier.Weight.Grad!.ToArray().Any(v => v != 0), "the R-CNN branch's cross-entropy");
        var offsetLast = model.NamedParameters().Single(p => p.Name == "roi_pool.pool.offset_fc.4.weight").Parameter;
        Assert.IsTrue(offsetLast.Grad!.ToArray().Any(v => v != 0), "the zero-initialised offset layer gets a gradient");
        Assert.IsGreaterThan(detection, loss.Item(), "the mimicking terms add to the detection loss");

        // The mimic term: 1 − cos between the first `count` object RoIs' features and their crops' R-CNN features.
        int count = Math.Min(batch.Objects, settings.MaxMimicRois);
        using (Autograd.NoGrad())
        {
            var roiFeatures = model.RoIFeatures(model.Backbone.Forward(batch.Images), batch.Rois).Slice(0, 0, count);
            var rcnn = Trainer.RcnnFeatures(model, batch.Images, batch.Rois.Slice(0, 0, count), settings.CropSize);
            Assert.AreEqual(Functional.CosineMimicLoss(roiFeatures, rcnn).Item(), mimic!.Value, 1e-5);
        }
    }

    [TestMethod]
    public void Loss_WithoutMimicking_LeavesTheRcnnBranchAlone()
    {
        var model = new TwoStageDetector(HeadKind.RoIAlign, SyntheticItems.ClassNames.Length, seed: 5);
        var (loss, detection, mimic) = Trainer.Loss(model, SmallBatch(), new TrainSettings(Mimic: false));
        loss.Backward();
        Assert.IsNull(mimic);
        Assert.AreEqual(loss.Item(), detection, 0.0);
        Assert.IsTrue(model.RcnnClassifier.Weight.Grad is null || model.RcnnClassifier.Weight.Grad.ToArray().All(v => v == 0));
    }

    private static Batch SmallBatch()
    {
        var scenes = SceneGenerator.Generate(SyntheticItems.Generate(10, new SeededRandom(1)), 2, new SeededRandom(2));
        var random = new SeededRandom(3);
        var proposals = scenes.Select((s, i) => (IReadOnlyList<RoiSample>)Proposals.For(s, i, random)).ToList();
        return Batch.Build(scenes, [0, 1], proposals);
    }

    /// <summary>Two seeded 96×96 canvases and five RoIs on them.</summary>
    private static (Tensor<float> Images, Tensor<float> Rois) Inputs()
    {
        var images = Tensor<float>.Rand(17, 2, 1, 96, 96);
        var rois = Tensor<float>.FromArray(
        [
            0, 10, 12, 40, 50,
            0, 50, 5, 90, 35,
            1, 0, 0, 30, 30,
            1, 33.5f, 40.25f, 70, 94,
            1, 60, 60, 96, 96,
        ], 5, 5);
        return (images, rois);
    }
}
