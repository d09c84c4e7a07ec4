namespace DeformEngine.Examples.DeformableRoIPooling;

/// <summary>Canvases and their RoIs as tensors, objects first: rows [0, <see cref="Objects"/>) of
/// <see cref="Rois"/> are the object RoIs, so the box loss and the mimic loss take a slice.</summary>
internal sealed record Batch(Tensor<float> Images, Tensor<float> Rois, int[] Targets, int Objects, Tensor<float>? BoxTargets,
    IReadOnlyList<RoiSample> Samples)
{
    /// <param name="scenes">All canvases.</param>
    /// <param name="indices">The canvases of this batch.</param>
    /// <param name="proposals">Per canvas (same order as <paramref name="scenes"/>), its RoIs; their
    /// <see cref="RoiSample.Image"/> is ignored and replaced by the position in the batch.</param>
    public static Batch Build(IReadOnlyList<Scene> scenes, IReadOnlyList<int> indices, IReadOnlyList<IReadOnlyList<RoiSample>> proposals)
    {
        ArgumentNullException.ThrowIfNull(scenes);
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(proposals);
        if (indices.Count == 0) throw new ArgumentException("indices: expected at least one canvas.", nameof(indices));
        int size = scenes[indices[0]].Size;
        var images = new float[indices.Count * size * size];
        var samples = new List<RoiSample>();
        for (int b = 0; b < indices.Count; b++)
        {
            var scene = scenes[indices[b]];
            if (scene.Size != size)
                throw new ArgumentException($"scenes: expected canvases of one size ({size}), got {scene.Size} at {indices[b]}.", nameof(scenes));
            scene.Pixels.CopyTo(images, b * size * size);
            samples.AddRange(proposals[indices[b]].Select(s => s with { Image = b }));
        }
        // A stable partition: object RoIs first, each group in its original order.
        var ordered = samples.Where(s => s.IsObject).Concat(samples.Where(s => !s.IsObject)).ToList();
        int objects = ordered.Count(s => s.IsObject);
        var boxTargets = objects == 0 ? null
            : Tensor<float>.FromArray(ordered.Take(objects).SelectMany(s => BoxCoder.Encode(s.Proposal, s.GroundTruth!.Value)).Select(v => (float)v).ToArray(), objects, 4);
        return new Batch(Tensor<float>.FromArray(images, indices.Count, 1, size, size), RoiTensor(ordered),
            ordered.Select(s => s.Target).ToArray(), objects, boxTargets, ordered);
    }

    /// <summary>[K, 5] rows (image, x1, y1, x2, y2).</summary>
    public static Tensor<float> RoiTensor(IReadOnlyList<RoiSample> samples)
    {
        var data = new float[samples.Count * 5];
        for (int k = 0; k < samples.Count; k++)
        {
            var (image, box) = (samples[k].Image, samples[k].Proposal);
            data[k * 5] = image;
            data[k * 5 + 1] = (float)box.X1;
            data[k * 5 + 2] = (float)box.Y1;
            data[k * 5 + 3] = (float)box.X2;
            data[k * 5 + 4] = (float)box.Y2;
        }
        return Tensor<float>.FromArray(data, samples.Count, 5);
    }
}

/// <summary>The R-CNN branch's input (DCNv2 §3.3): each RoI cut out of its canvas and resized to
/// size × size, here by aligned RoI Align on the canvas itself with one sample per output pixel, i.e.
/// bilinear resampling at the centres of a size × size grid over the box.</summary>
internal static class RcnnCrop
{
    public static Tensor<float> Crop(Tensor<float> images, Tensor<float> rois, int size)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(rois);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        using var _ = Autograd.NoGrad();
        return Functional.RoIAlign(images, rois, (size, size), spatialScale: 1.0, samplingRatio: 1, aligned: true);
    }

    /// <summary>RoIs [count, 5] that cover each whole crop (crop k of the batch of crops is image k).</summary>
    public static Tensor<float> WholeCropRois(int count, int size)
    {
        var data = new float[count * 5];
        for (int k = 0; k < count; k++)
        {
            data[k * 5] = k;
            data[k * 5 + 3] = size;
            data[k * 5 + 4] = size;
        }
        return Tensor<float>.FromArray(data, count, 5);
    }
}
