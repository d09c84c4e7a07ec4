using static DeformEngine.Tests.Core.TensorAssert;

namespace DeformEngine.Tests.Core;

[TestClass]
public class AutogradTests
{
    // Gradients of small-integer polynomials are exact in double.
    private const double Exact = 0;
    // float gradients of the same polynomials: exact as well, the values stay below 2^24.
    private const double FloatExact = 0;

    private static Tensor<double> Leaf(params double[] values)
    {
        var x = Tensor<double>.FromArray(values, values.Length);
        x.RequiresGrad = true;
        return x;
    }

    [TestMethod]
    public void Backward_TensorUsedTwice_SumsBothContributions()
    {
        // d(x·x + x)/dx = 2x + 1.
        var x = Leaf(1, -2, 3);
        (x * x + x).Sum().Backward();
        Close([3, -3, 7], x.Grad!, Exact);
    }

    [TestMethod]
    public void Backward_FloatTensorUsedTwice_SumsBothContributions()
    {
        var x = Tensor<float>.FromArray([1f, -2f, 3f], 3);
        x.RequiresGrad = true;
        (x * x * x).Sum().Backward();
        Close([3, 12, 27], x.Grad!, FloatExact);
    }

    [TestMethod]
    public void Backward_DiamondGraph_EachPathCountedOnce()
    {
        // a = 2x; y = a·a + 3a → dy/dx = (2a + 3)·2 = 8x + 6.
        var x = Leaf(1, 2);
        var a = x * 2.0;
        (a * a + a * 3.0).Sum().Backward();
        Close([14, 22], x.Grad!, Exact);
    }

    [TestMethod]
    public void Backward_FreshLeafGradient_BecomesGradWithoutACopy()
    {
        // A backward that allocates its result hands it to the leaf as it is.
        var x = Leaf(1, 2);
        var fresh = Tensor<double>.FromArray([5.0, 6.0], 2);
        var y = Autograd.Record(Tensor<double>.FromArray([0.0, 0.0], 2), "Fresh", (grad, needs) => [fresh], x);
        y.Backward(Tensor<double>.FromArray([1.0, 1.0], 2));
        Assert.AreSame(fresh, x.Grad);
        Close([5, 6], x.Grad!, Exact);
    }

    [TestMethod]
    public void Backward_PassThroughGradients_AreCopiedBeforeTheyBecomeGrad()
    {
        // z = x + y returns the upstream gradient for both leaves: neither Grad may share storage with
        // the other or with the caller's gradOutput, or accumulating into one would change the others.
        var x = Leaf(1, 2);
        var y = Leaf(3, 4);
        var upstream = Tensor<double>.FromArray([1.0, 10.0], 2);
        (x + y).Backward(upstream);
        x.Grad![0] = 100;
        Close([1, 10], y.Grad!, Exact);
        Close([1, 10], upstream, Exact);
        (x + y).Backward(upstream);
        Close([101, 20], x.Grad!, Exact);
        Close([2, 20], y.Grad!, Exact);
        Close([1, 10], upstream, Exact);
    }

    [TestMethod]
    public void Backward_SameFreshTensorForTwoLeaves_SecondLeafGetsACopy()
    {
        var x = Leaf(1, 2);
        var y = Leaf(3, 4);
        var shared = Tensor<double>.FromArray([7.0, 8.0], 2);
        var z = Autograd.Record(Tensor<double>.FromArray([0.0, 0.0], 2), "Twice", (grad, needs) => [shared, shared], x, y);
        z.Backward(Tensor<double>.FromArray([1.0, 1.0], 2));
        Assert.AreNotSame(x.Grad, y.Grad);
        x.Grad![1] = -1;
        Close([7, 8], y.Grad!, Exact);
    }

    [TestMethod]
    public void Backward_GradientSharingAGraphTensorsStorage_IsCopied()
    {
        // A (wrong but possible) backward returning an input's own storage must not let Grad alias it.
        var x = Leaf(1, 2);
        var w = Tensor<double>.FromArray([3.0, 4.0], 2);
        var z = Autograd.Record(Tensor<double>.FromArray([0.0, 0.0], 2), "ReturnsInput", (grad, needs) => [w.Detach(), null], x, w);
        z.Backward(Tensor<double>.FromArray([1.0, 1.0], 2));
        x.Grad![0] = 50;
        Close([3, 4], w, Exact);
    }

    [TestMethod]
    public void Backward_TwoCallsOnSeparateGraphs_Accumulates()
    {
        // d(3x)/dx + d(x²)/dx = 3 + 2x.
        var x = Leaf(1, 2);
        (x * 3.0).Sum().Backward();
        Close([3, 3], x.Grad!, Exact);
        (x * x).Sum().Backward();
        Close([5, 7], x.Grad!, Exact);
    }

    [TestMethod]
    public void Backward_RetainGraphThenAgain_AccumulatesTwice()
    {
        var x = Leaf(1, 2);
        var loss = (x * x).Sum();
        loss.Backward(retainGraph: true);
        loss.Backward();
        Close([4, 8], x.Grad!, Exact);
    }

    [TestMethod]
    public void Backward_SecondCallOnFreedGraph_ThrowsNamingRetainGraph()
    {
        var x = Leaf(1, 2);
        var loss = x.Exp().Sum();
        loss.Backward();
        var ex = Assert.ThrowsExactly<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("Sum", ex.Message);
        Assert.Contains("retainGraph", ex.Message);
    }

    [TestMethod]
    public void Backward_SharedSubgraphFreedByOtherRoot_Throws()
    {
        var x = Leaf(1, 2);
        var shared = x.Exp();
        shared.Sum().Backward();
        var ex = Assert.ThrowsExactly<InvalidOperationException>(() => shared.Mean().Backward());
        Assert.Contains("Exp", ex.Message);
    }

    [TestMethod]
    public void ZeroGrad_AfterBackward_NextBackwardStartsFresh()
    {
        var x = Leaf(1, 2);
        (x * 5.0).Sum().Backward();
        x.ZeroGrad();
        Assert.IsNull(x.Grad);
        (x * 2.0).Sum().Backward();
        Close([2, 2], x.Grad!, Exact);
    }

    [TestMethod]
    public void Backward_GivenGradOutput_ScalesLeafGradient()
    {
        var x = Leaf(1, 2, 3);
        (x * 2.0).Backward(Tensor<double>.FromArray([1, 10, 100], 3));
        Close([2, 20, 200], x.Grad!, Exact);
    }

    [TestMethod]
    public void Backward_IntermediateTensor_KeepsNoGrad()
    {
        var x = Leaf(1, 2);
        var hidden = x * x;
        hidden.Sum().Backward();
        Assert.IsNull(hidden.Grad);
        Assert.IsFalse(hidden.IsLeaf);
        Assert.AreEqual("Mul", hidden.Producer);
    }

    [TestMethod]
    public void Backward_LongChain_DoesNotOverflowTheStack()
    {
        const int Steps = 20000;
        var x = Leaf(0);
        var y = x;
        for (int i = 0; i < Steps; i++) y = y + 1.0;
        y.Sum().Backward();
        Close([1], x.Grad!, Exact);
        Close([Steps], y, Exact);
    }

    [TestMethod]
    public void NoGrad_Scope_BuildsNoGraph()
    {
        var x = Leaf(1, 2);
        Tensor<double> y;
        using (Autograd.NoGrad())
        {
            Assert.IsFalse(Autograd.IsGradEnabled);
            y = (x * x).Exp().Sum();
        }
        Assert.IsTrue(Autograd.IsGradEnabled);
        Assert.IsFalse(y.RequiresGrad);
        Assert.IsTrue(y.IsLeaf);
        Assert.AreEqual("leaf", y.Producer);
        Assert.ThrowsExactly<InvalidOperationException>(() => y.Backward());
        Assert.IsTrue((x * x).RequiresGrad, "recording resumes after the scope");
    }

    [TestMethod]
    public void NoGrad_Nested_StaysOffUntilOutermostEnds()
    {
        var x = Leaf(1);
        using (Autograd.NoGrad())
        {
            using (Autograd.NoGrad()) { }
            Assert.IsFalse((x * 2.0).RequiresGrad);
        }
        Assert.IsTrue((x * 2.0).RequiresGrad);
    }

    [TestMethod]
    public void NoGrad_OnAnotherThread_DoesNotAffectThisThread()
    {
        var x = Leaf(1);
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var other = new Thread(() =>
        {
            using (Autograd.NoGrad())
            {
                entered.Set();
                release.Wait();
            }
        });
        other.Start();
        entered.Wait();
        try
        {
            Assert.IsTrue(Autograd.IsGradEnabled);
            Assert.IsTrue((x * 2.0).RequiresGrad);
        }
        finally
        {
            release.Set();
            other.Join();
        }
    }

    [TestMethod]
    public void Detach_UsedBesideOriginal_StopsItsGradient()
    {
        // y = stop(x)·x → dy/dx = stop(x) = x, not 2x.
        var x = Leaf(3, -1);
        (x.Detach() * x).Sum().Backward();
        Close([3, -1], x.Grad!, Exact);
    }

    [TestMethod]
    public void Detach_Result_SharesDataWithoutHistory()
    {
        var x = Leaf(1, 2);
        var y = x.Exp();
        var detached = y.Detach();
        Assert.IsTrue(detached.IsLeaf);
        Assert.IsFalse(detached.RequiresGrad);
        detached.AsSpan()[0] = 42;
        Assert.AreEqual(42.0, y[0], "Detach shares storage, as torch.Tensor.detach does");
    }

    [TestMethod]
    public void RequiresGrad_SetOnOperationResult_Throws()
    {
        var y = Leaf(1) * 2.0;
        var ex = Assert.ThrowsExactly<InvalidOperationException>(() => y.RequiresGrad = false);
        Assert.Contains("MulScalar", ex.Message);
    }

    [TestMethod]
    public void Backward_NonScalarWithoutGradOutput_Throws()
    {
        var y = Leaf(1, 2) * 2.0;
        var ex = Assert.ThrowsExactly<InvalidOperationException>(() => y.Backward());
        Assert.Contains("gradOutput", ex.Message);
    }

    [TestMethod]
    public void Backward_GradOutputOfWrongShape_ThrowsNamingGradOutput()
    {
        var y = Leaf(1, 2) * 2.0;
        ThrowsArgument("gradOutput", () => y.Backward(Tensor<double>.Ones(3)));
    }

    [TestMethod]
    public void Record_SomeInputsNeedGrad_BackwardToldWhichOnes()
    {
        var a = Leaf(1, 2);
        var b = Tensor<double>.Ones(2);
        bool[]? seen = null;
        var output = Autograd.Record(a.Detach() * b, "Custom", (g, needs) =>
        {
            seen = needs;
            return [needs[0] ? g * b : null, null, needs[2] ? g * a : null];
        }, a, null, b);
        output.Sum().Backward();
        CollectionAssert.AreEqual(new[] { true, false, false }, seen);
        Close([1, 1], a.Grad!, Exact);
        Assert.IsNull(b.Grad);
    }

    [TestMethod]
    public void Record_NoInputNeedsGrad_RecordsNothing()
    {
        var result = Tensor<double>.Ones(2);
        var recorded = Autograd.Record(result, "Custom", (g, _) => [g], Tensor<double>.Ones(2));
        Assert.AreSame(result, recorded);
        Assert.IsTrue(recorded.IsLeaf);
    }

    [TestMethod]
    public void Record_BackwardReturnsWrongShape_ThrowsNamingTheOp()
    {
        var a = Leaf(1, 2);
        var output = Autograd.Record(a.Detach().Sum(), "Broken", (g, _) => [g], a);
        var ex = Assert.ThrowsExactly<InvalidOperationException>(() => output.Backward());
        Assert.Contains("Broken", ex.Message);
    }
}
