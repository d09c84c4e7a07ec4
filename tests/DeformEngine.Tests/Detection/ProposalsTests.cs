using DeformEngine.Examples.DeformableRoIPooling;

namespace DeformEngine.Tests.Detection;

[TestClass]
public class ProposalsTests
{
    [TestMethod]
    public void For_EveryProposal_LabelledByTheIoURule()
    {
        var scenes = SceneGenerator.Generate(SyntheticItems.Generate(30, new SeededRandom(2)), 30, new SeededRandom(3));
        var options = new ProposalOptions();
        var random = new SeededRandom(4);
        int objects = 0, backgrounds = 0;
        for (int i = 0; i < scenes.Length; i++)
        {
            var samples = Proposals.For(scenes[i], i, random, options);
            Assert.IsLessThanOrEqualTo(scenes[i].Objects.Count * options.JittersPerObject + options.Backgrounds, samples.Count);
            foreach (var s in samples)
            {
                Assert.AreEqual(i, s.Image);
                var best = scenes[i].Objects.MaxBy(o => o.Box.IoU(s.Proposal))!;
                double iou = best.Box.IoU(s.Proposal);
                if (iou >= options.PositiveIoU)
                {
                    Assert.AreEqual(best.Label + 1, s.Target, "an object RoI targets its class + 1");
                    Assert.AreEqual(best.Box, s.GroundTruth);
                    objects++;
                }
                else
                {
                    Assert.AreEqual(0, s.Target, $"IoU {iou:F3} < 0.5 is background");
                    Assert.IsNull(s.GroundTruth);
                    backgrounds++;
                }
                Assert.IsTrue(s.Proposal.X1 >= 0 && s.Proposal.Y1 >= 0 && s.Proposal.X2 <= 96 && s.Proposal.Y2 <= 96, $"{s.Proposal} on the canvas");
            }
        }
        Assert.IsGreaterThan(0, objects);
        Assert.IsGreaterThan(0, backgrounds);
    }

    [TestMethod]
    public void Label_ExactGroundTruth_IsThatObject()
    {
        var scene = new Scene(new float[96 * 96], 96, [new SceneObject(new Box(10, 10, 40, 40), 2), new SceneObject(new Box(50, 50, 80, 90), 0)]);
        Assert.AreEqual(3, Proposals.Label(scene, 0, new Box(10, 10, 40, 40)).Target);
        Assert.AreEqual(1, Proposals.Label(scene, 0, new Box(52, 50, 80, 88)).Target);
        // IoU 1/3 with the first object: background.
        Assert.AreEqual(0, Proposals.Label(scene, 0, new Box(25, 10, 55, 40)).Target);
    }
}
