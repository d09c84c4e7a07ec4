namespace DeformEngine.Examples.DeformableRoIPooling;

/// <summary>Settings of one training run.</summary>
internal sealed record TrainSettings(int Epochs = 6, int BatchSize = 8, double LearningRate = 3e-3, double BoxWeight = 1,
    bool Mimic = false, double MimicWeight = 1, double RcnnWeight = 1, int MaxMimicRois = 16, int CropSize = 32,
    double DcnOffsetLrMultiplier = 0.1, long Seed = 1);

/// <summary>What the test set says about a model.</summary>
/// <param name="RoiAccuracy">Fraction of test RoIs (objects and background) classified right.</param>
/// <param name="ObjectAccuracy">The same over object RoIs only.</param>
/// <param name="MeanIoU">Mean IoU of the regressed object RoIs with their ground truth.</param>
/// <param name="ProposalIoU">The same for the proposals before regression.</param>
/// <param name="MeanBinOffset">Mean length of the bin displacements, in RoI fractions (0 for RoI Align).</param>
/// <param name="MimicDistance">Mean 1 − cos between the RoI feature of each object RoI and the R-CNN
/// branch's feature of its crop: the mimic loss, measured on the test set for every model.</param>
internal sealed record Evaluation(double RoiAccuracy, double ObjectAccuracy, double MeanIoU, double ProposalIoU,
    double MeanBinOffset, double MimicDistance);

/// <summary>Per epoch: the mean detection loss (classification + box, comparable between runs), the
/// mean mimic loss (NaN without mimicking), and the test RoI accuracy after the epoch.</summary>
internal sealed record EpochStats(double DetectionLoss, double MimicLoss, double TestRoiAccuracy);

/// <summary>A finished run: its model, final test evaluation, per-epoch statistics and training time
/// (test evaluations after each epoch not included).</summary>
internal sealed record RunResult(string Name, TwoStageDetector Model, bool Mimic, Evaluation Test, IReadOnlyList<EpochStats> Epochs,
    double TrainSeconds, int EpochsDone)
{
    public double SecondsPerEpoch => TrainSeconds / Math.Max(EpochsDone, 1);
}

/// <summary>The training and test data, the losses and the evaluation. Loss = cross-entropy over all
/// RoIs + box MSE on object RoIs, and with mimicking (DCNv2 §3.3) the R-CNN branch's cross-entropy on
/// the crops of up to <see cref="TrainSettings.MaxMimicRois"/> object RoIs + the mimic loss
/// 1 − cos(RoI feature, R-CNN feature) on the same RoIs, the R-CNN feature detached so that the loss
/// pulls the detector's feature towards it.</summary>
internal sealed class Trainer(IReadOnlyList<Scene> train, IReadOnlyList<Scene> test, IReadOnlyList<IReadOnlyList<RoiSample>> testProposals)
{
    public IReadOnlyList<Scene> Train => train;

    /// <summary>A run of <see cref="TrainSettings.Epochs"/> epochs, to be driven epoch by epoch.</summary>
    public TrainingRun Start(string name, TwoStageDetector model, TrainSettings settings) => new(this, name, model, settings);

    /// <summary>Trains all <see cref="TrainSettings.Epochs"/> epochs of one run and evaluates it.</summary>
    public RunResult Run(string name, TwoStageDetector model, TrainSettings settings)
    {
        var run = Start(name, model, settings);
        for (int epoch = 0; epoch < settings.Epochs; epoch++) run.RunEpoch();
        return run.Finish();
    }

    /// <summary>The training loss of one batch, the value of its detection terms (classification +
    /// box) and, with mimicking, the mimic term's value.</summary>
    internal static (Tensor<float> Loss, double Detection, double? Mimic) Loss(TwoStageDetector model, Batch batch, TrainSettings settings)
    {
        var features = model.Backbone.Forward(batch.Images);
        var roiFeatures = model.RoIFeatures(features, batch.Rois);
        var loss = Functional.CrossEntropy(model.Classifier.Forward(roiFeatures), batch.Targets);
        if (batch.Objects > 0)
        {
            var deltas = model.BoxRegressor.Forward(roiFeatures.Slice(0, 0, batch.Objects));
            loss = loss + Functional.MseLoss(deltas, batch.BoxTargets!).MulScalar((float)settings.BoxWeight);
        }
        double detection = loss.Item();
        if (!settings.Mimic || batch.Objects == 0) return (loss, detection, null);

        int count = Math.Min(batch.Objects, settings.MaxMimicRois);
        var rcnnFeatures = RcnnFeatures(model, batch.Images, batch.Rois.Slice(0, 0, count), settings.CropSize);
        var rcnnLogits = model.RcnnClassifier.Forward(rcnnFeatures);
        loss = loss + Functional.CrossEntropy(rcnnLogits, batch.Targets[..count]).MulScalar((float)settings.RcnnWeight);
        // NOTE: the R-CNN feature is detached in the mimic term: its gradient goes to the detector's
        // RoI feature only; the R-CNN branch learns from its own cross-entropy above.
        var mimic = Functional.CosineMimicLoss(roiFeatures.Slice(0, 0, count), rcnnFeatures.Detach());
        loss = loss + mimic.MulScalar((float)settings.MimicWeight);
        return (loss, detection, mimic.Item());
    }

    /// <summary>The R-CNN branch's feature of each RoI: the crop, resized, through the same backbone
    /// and pooled as one RoI covering the whole crop, then fc6 and fc7.</summary>
    internal static Tensor<float> RcnnFeatures(TwoStageDetector model, Tensor<float> images, Tensor<float> rois, int cropSize)
    {
        var crops = RcnnCrop.Crop(images, rois, cropSize);
        // The crops are mostly object, the canvases mostly background: in training the crops are
        // normalised with their own batch statistics, but the running statistics (what evaluation
        // uses on whole canvases) are left to the canvases.
        var saved = model.Backbone.NamedBuffers().Select(b => (b.Name, Data: b.Buffer.ToArray())).ToList();
        var cropFeatures = model.Backbone.Forward(crops);
        var buffers = model.Backbone.NamedBuffers().ToDictionary(b => b.Name, b => b.Buffer);
        foreach (var (name, data) in saved) data.CopyTo(buffers[name].AsSpan());
        return model.RoIFeatures(cropFeatures, RcnnCrop.WholeCropRois(rois.Dim(0), cropSize));
    }

    public Evaluation Evaluate(TwoStageDetector model, TrainSettings settings, bool withMimicDistance)
    {
        model.Eval();
        int correct = 0, objectCorrect = 0, rois = 0, objects = 0;
        double iouSum = 0, proposalIoUSum = 0, offsetSum = 0, mimicSum = 0;
        long bins = 0;
        using (Autograd.NoGrad())
        {
            for (int start = 0; start < test.Count; start += settings.BatchSize)
            {
                var indices = Enumerable.Range(start, Math.Min(settings.BatchSize, test.Count - start)).ToArray();
                var batch = Batch.Build(test, indices, testProposals);
                var features = model.Backbone.Forward(batch.Images);
                var roiFeatures = model.RoIFeatures(features, batch.Rois);
                var logits = model.Classifier.Forward(roiFeatures).ToArray();
                int outputs = model.Classes + 1;
                for (int k = 0; k < batch.Targets.Length; k++)
                {
                    bool right = ArgMax(logits.AsSpan(k * outputs, outputs)) == batch.Targets[k];
                    if (right) correct++;
                    if (k < batch.Objects && right) objectCorrect++;
                }
                rois += batch.Targets.Length;
                if (model.Pooling.LastBinOffsets() is { } offsets)
                {
                    int plane = RoIPooling.Bins * RoIPooling.Bins;
                    for (int k = 0; k < batch.Targets.Length; k++)
                        for (int bin = 0; bin < plane; bin++)
                        {
                            float dx = offsets[(k * 2) * plane + bin], dy = offsets[(k * 2 + 1) * plane + bin];
                            offsetSum += Math.Sqrt(dx * dx + dy * dy);
                        }
                    bins += (long)batch.Targets.Length * plane;
                }
                if (batch.Objects == 0) continue;
                var objectFeatures = roiFeatures.Slice(0, 0, batch.Objects);
                var deltas = model.BoxRegressor.Forward(objectFeatures).ToArray();
                for (int k = 0; k < batch.Objects; k++)
                {
                    var sample = batch.Samples[k];
                    iouSum += BoxCoder.Decode(sample.Proposal, deltas.AsSpan(k * 4, 4)).IoU(sample.GroundTruth!.Value);
                    proposalIoUSum += sample.Proposal.IoU(sample.GroundTruth!.Value);
                }
                objects += batch.Objects;
                if (withMimicDistance)
                {
                    var rcnn = RcnnFeatures(model, batch.Images, batch.Rois.Slice(0, 0, batch.Objects), settings.CropSize);
                    mimicSum += Functional.CosineMimicLoss(objectFeatures, rcnn, Reduction.Sum).Item();
                }
            }
        }
        model.Train();
        return new Evaluation((double)correct / Math.Max(rois, 1), (double)objectCorrect / Math.Max(objects, 1),
            iouSum / Math.Max(objects, 1), proposalIoUSum / Math.Max(objects, 1), bins > 0 ? offsetSum / bins : 0,
            withMimicDistance ? mimicSum / Math.Max(objects, 1) : double.NaN);
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }
}
