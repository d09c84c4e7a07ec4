namespace DeformEngine.Examples.DeformableRoIPooling;

/// <summary>One region of interest of a batch: the canvas it is on, the proposal box, its training
/// target (0 = background, 1 + class for an object) and, for an object, the box to regress to.</summary>
internal sealed record RoiSample(int Image, Box Proposal, int Target, Box? GroundTruth)
{
    public bool IsObject => Target > 0;
}

/// <summary>Settings of the stand-in for a region proposal network.</summary>
internal sealed record ProposalOptions(int JittersPerObject = 3, int Backgrounds = 3, double MaxShift = 0.25, double MaxLogScale = 0.3,
    double PositiveIoU = 0.5, double BackgroundMaxIoU = 0.3, double MinSide = 14, double MaxSide = 50);

/// <summary>Proposals as a first stage would give them: each ground-truth box jittered (shifted by up
/// to <see cref="ProposalOptions.MaxShift"/> of its size, each side scaled by up to
/// e^±<see cref="ProposalOptions.MaxLogScale"/>) and random boxes on the background. Each is labelled
/// as Fast R-CNN labels them: the class of the object it overlaps with IoU ≥ 0.5, else background.</summary>
internal static class Proposals
{
    private const int BackgroundTries = 20;

    public static List<RoiSample> For(Scene scene, int image, SeededRandom random, ProposalOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(scene);
        options ??= new ProposalOptions();
        double Uniform(double low, double high) => low + (high - low) * random.NextDouble();
        var result = new List<RoiSample>();
        foreach (var obj in scene.Objects)
            for (int j = 0; j < options.JittersPerObject; j++)
            {
                var b = obj.Box;
                var box = Box.FromCenter(b.CenterX + Uniform(-1, 1) * options.MaxShift * b.Width,
                    b.CenterY + Uniform(-1, 1) * options.MaxShift * b.Height,
                    b.Width * Math.Exp(Uniform(-1, 1) * options.MaxLogScale),
                    b.Height * Math.Exp(Uniform(-1, 1) * options.MaxLogScale)).Clip(scene.Size);
                if (box.Width < 2 || box.Height < 2) continue;
                result.Add(Label(scene, image, box, options.PositiveIoU));
            }
        for (int j = 0; j < options.Backgrounds; j++)
        {
            // Background boxes overlap no object by more than BackgroundMaxIoU when such a place is
            // found in a few tries; a crowded canvas may give a partial overlap, labelled by the rule.
            Box box = default;
            for (int attempt = 0; attempt < BackgroundTries; attempt++)
            {
                double width = Uniform(options.MinSide, options.MaxSide), height = Uniform(options.MinSide, options.MaxSide);
                box = Box.FromCenter(Uniform(width / 2, scene.Size - width / 2), Uniform(height / 2, scene.Size - height / 2), width, height);
                if (scene.Objects.All(o => o.Box.IoU(box) <= options.BackgroundMaxIoU)) break;
            }
            result.Add(Label(scene, image, box, options.PositiveIoU));
        }
        return result;
    }

    /// <summary>The Fast R-CNN label of <paramref name="proposal"/>: the object of largest IoU when
    /// that IoU is at least <paramref name="positiveIoU"/>, else background.</summary>
    public static RoiSample Label(Scene scene, int image, Box proposal, double positiveIoU = 0.5)
    {
        SceneObject? best = null;
        double bestIoU = 0;
        foreach (var obj in scene.Objects)
        {
            double iou = obj.Box.IoU(proposal);
            if (iou > bestIoU) (best, bestIoU) = (obj, iou);
        }
        return best is not null && bestIoU >= positiveIoU
            ? new RoiSample(image, proposal, best.Label + 1, best.Box)
            : new RoiSample(image, proposal, 0, null);
    }
}
