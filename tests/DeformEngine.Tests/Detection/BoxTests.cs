using DeformEngine.Examples.DeformableRoIPooling;

namespace DeformEngine.Tests.Detection;

[TestClass]
public class BoxTests
{
    // Box arithmetic in double on small integers: exact up to rounding.
    private const double Exact = 1e-12;
    // Deltas pass through float in Decode.
    private const double FloatRoundTrip = 1e-5;

    [TestMethod]
    public void IoU_KnownOverlaps_ClosedForms()
    {
        var a = new Box(0, 0, 10, 10);
        Assert.AreEqual(1.0, a.IoU(a), Exact);
        Assert.AreEqual(0.0, a.IoU(new Box(10, 0, 20, 10)), "touching edges share no area");
        // Half of each box overlaps: 50 / (100 + 100 − 50).
        Assert.AreEqual(1.0 / 3, a.IoU(new Box(5, 0, 15, 10)), Exact);
        // A 5×5 box inside: 25 / 100.
        Assert.AreEqual(0.25, a.IoU(new Box(2, 2, 7, 7)), Exact);
        Assert.AreEqual(0.0, a.IoU(new Box(3, 3, 3, 8)), "an empty box");
    }

    [TestMethod]
    public void BoxCoder_Encode_ClosedFormAndDecodeInverts()
    {
        var proposal = new Box(10, 20, 30, 60);   // centre (20, 40), 20 × 40
        var target = new Box(12, 18, 36, 58);      // centre (24, 38), 24 × 40
        var deltas = BoxCoder.Encode(proposal, target);
        Assert.AreEqual(4.0 / 20 / 0.1, deltas[0], Exact);
        Assert.AreEqual(-2.0 / 40 / 0.1, deltas[1], Exact);
        Assert.AreEqual(Math.Log(24.0 / 20) / 0.2, deltas[2], Exact);
        Assert.AreEqual(0.0, deltas[3], Exact);
        var back = BoxCoder.Decode(proposal, deltas.Select(d => (float)d).ToArray());
        Assert.AreEqual(target.X1, back.X1, FloatRoundTrip);
        Assert.AreEqual(target.Y1, back.Y1, FloatRoundTrip);
        Assert.AreEqual(target.X2, back.X2, FloatRoundTrip);
        Assert.AreEqual(target.Y2, back.Y2, FloatRoundTrip);
    }

    [TestMethod]
    public void BoxCoder_Decode_HugeSizeDeltaIsCapped()
    {
        var box = BoxCoder.Decode(new Box(0, 0, 16, 16), [0f, 0f, 1e6f, 0f]);
        Assert.IsTrue(double.IsFinite(box.Width));
        Assert.AreEqual(1000.0, box.Width, 1e-9, "the width grows at most to 1000/16 times 16");
    }
}
