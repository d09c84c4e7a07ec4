using DeformEngine.Explain;
using DeformEngine.Plotting;

namespace DeformEngine.Examples.DeformableRoIPooling;

/// <summary>The example's pictures, from trained models and a few test canvases.</summary>
internal static class Figures
{
    /// <summary>The test canvases to draw: the first <paramref name="count"/> with at least two
    /// objects (topped up with the first others when there are too few).</summary>
    public static List<int> PickCanvases(IReadOnlyList<Scene> scenes, int count)
    {
        var crowded = Enumerable.Range(0, scenes.Count).Where(i => scenes[i].Objects.Count >= 2);
        return crowded.Concat(Enumerable.Range(0, scenes.Count)).Distinct().Take(count).ToList();
    }

    /// <summary>Each canvas with its ground-truth boxes as RoIs, pooled by <paramref name="model"/>:
    /// the regular 7×7 bins, the bins moved by the learned offsets and, for a modulated head, the masks.</summary>
    public static List<CanvasRoIs> Views(TwoStageDetector model, IReadOnlyList<Scene> scenes, IReadOnlyList<int> canvases, string[] classNames)
    {
        var views = new List<CanvasRoIs>();
        model.Eval();
        using (Autograd.NoGrad())
        {
            foreach (int index in canvases)
            {
                var scene = scenes[index];
                var samples = scene.Objects.Select(o => new RoiSample(0, o.Box, o.Label + 1, o.Box)).ToList();
                var image = Tensor<float>.FromArray(scene.Pixels, 1, 1, scene.Size, scene.Size);
                model.Pooling.Pool(model.Backbone.Forward(image), Batch.RoiTensor(samples));
                var offsets = model.Pooling.LastBinOffsets();
                var masks = model.Pooling.LastModulation();
                var rois = new List<BinnedRoI>();
                for (int k = 0; k < samples.Count; k++)
                {
                    var box = samples[k].Proposal;
                    rois.Add(new BinnedRoI(classNames[scene.Objects[k].Label], ToRect(box), BinGeometry.Regular(box),
                        offsets is null ? BinGeometry.Regular(box) : BinGeometry.Deformed(box, offsets, k),
                        masks?.AsSpan(k * BinGeometry.Plane, BinGeometry.Plane).ToArray().Select(v => (double)v).ToList()));
                }
                views.Add(new CanvasRoIs($"test canvas {index}", new GrayImage(scene.Size, scene.Size, scene.Pixels.Select(v => (double)v).ToArray()), rois));
            }
        }
        model.Train();
        return views;
    }

    private static Rect ToRect(Box box) => new(box.X1, box.Y1, box.X2, box.Y2);
}

/// <summary>Where the 7×7 bins of a RoI lie in the image, as aligned RoI Align and mmcv's deformable
/// RoI pooling place them: bin (i, j) spans [x1 + j·w/7, x1 + (j + 1)·w/7) × [y1 + i·h/7, …), and the
/// learned offset moves it by (Δx·w, Δy·h) with (Δx, Δy) the displacement in RoI fractions.</summary>
internal static class BinGeometry
{
    public const int Plane = RoIPooling.Bins * RoIPooling.Bins;

    public static List<Rect> Regular(Box roi) => Deformed(roi, new float[2 * Plane], 0);

    /// <param name="roi">The RoI in image pixels.</param>
    /// <param name="fractions">[K, 2, 7, 7] displacements in RoI fractions (channel 0 = x).</param>
    /// <param name="k">The RoI's row in <paramref name="fractions"/>.</param>
    public static List<Rect> Deformed(Box roi, float[] fractions, int k)
    {
        if (fractions.Length < (k + 1) * 2 * Plane)
            throw new ArgumentException($"fractions: expected at least {(k + 1) * 2 * Plane} values for RoI {k}, got {fractions.Length}.", nameof(fractions));
        double binW = roi.Width / RoIPooling.Bins, binH = roi.Height / RoIPooling.Bins;
        var bins = new List<Rect>(Plane);
        for (int i = 0; i < RoIPooling.Bins; i++)
            for (int j = 0; j < RoIPooling.Bins; j++)
            {
                int bin = i * RoIPooling.Bins + j;
                double dx = fractions[(k * 2) * Plane + bin] * roi.Width, dy = fractions[(k * 2 + 1) * Plane + bin] * roi.Height;
                double x1 = roi.X1 + j * binW + dx, y1 = roi.Y1 + i * binH + dy;
                bins.Add(new Rect(x1, y1, x1 + binW, y1 + binH));
            }
        return bins;
    }
}
