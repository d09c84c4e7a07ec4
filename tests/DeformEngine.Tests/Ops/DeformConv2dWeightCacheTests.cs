using DeformEngine.Cpu;
using DeformEngine.Kernels;
using DeformEngine.NN;
using DeformEngine.Optim;

namespace DeformEngine.Tests.Ops;

/// <summary>The fast DeformConv2d keeps its permuted and packed weight per weight tensor
/// (<see cref="DeformConv2dWeights"/>): reused while the weight is unchanged, rebuilt after any write.</summary>
[TestClass]
[DoNotParallelize] // switches EngineOptions.UseReferenceKernels
public class DeformConv2dWeightCacheTests
{
    // The fast and the reference paths sum ~C·9 = 72 products per output in a different order.
    private const float FloatTolerance = 1e-4f;

    private sealed record Case(Tensor<float> Input, Tensor<float> Offset, Tensor<float> Mask, Tensor<float> Weight, Tensor<float> Bias)
    {
        public Tensor<float> Forward()
        {
            using var _ = Autograd.NoGrad();
            return Functional.DeformConv2d(Input, Offset, Weight, Bias, padding: (1, 1), mask: Mask);
        }

        public Tensor<float> ReferenceForward()
        {
            bool saved = EngineOptions.UseReferenceKernels;
            try
            {
                EngineOptions.UseReferenceKernels = true;
                return Forward();
            }
            finally
            {
                EngineOptions.UseReferenceKernels = saved;
            }
        }
    }

    /// <summary>N2 C8→16 7×7, 3×3: 16 output channels make two 8-row panels of the packed weight.</summary>
    private static Case MakeCase() => new(
        Tensor<float>.Randn(1, 2, 8, 7, 7), Tensor<float>.Randn(2, 2, 18, 7, 7).MulScalar(1.5f), Tensor<float>.Rand(3, 2, 9, 7, 7),
        Tensor<float>.Randn(4, 16, 8, 3, 3).MulScalar(0.2f), Tensor<float>.Randn(5, 16));

    [TestMethod]
    public void Forward_UnchangedWeight_PackedOnceAndSameOutput()
    {
        var c = MakeCase();
        float[] first = c.Forward().ToArray();
        var packed = PackedNow(c.Weight);
        float[] second = c.Forward().ToArray();
        Assert.AreSame(packed, PackedNow(c.Weight));
        CollectionAssert.AreEqual(first, second);
    }

    [TestMethod]
    public void Forward_WeightWrittenBetweenCalls_RepackedIntoTheSameStorage()
    {
        // A training step writes the weight each time: the rebuild reuses the previous version's arrays.
        var c = MakeCase();
        c.Forward();
        var packed = PackedNow(c.Weight);
        for (int step = 0; step < 3; step++)
        {
            c.Weight.AsSpan()[7 * step] -= 0.5f;
            float[] output = c.Forward().ToArray();
            Assert.AreSame(packed, PackedNow(c.Weight), $"step {step}");
            Assert.IsLessThan(FloatTolerance, MaxDifference(output, c.ReferenceForward().ToArray()), $"step {step}");
        }
    }

    [TestMethod]
    public void Forward_WeightWrittenWhileItsPackingIsRead_OldPackingLeftIntact()
    {
        // A call still reading the packed weight (its lease not disposed) keeps it: the rebuild after a write goes elsewhere.
        var c = MakeCase();
        var old = c.Weight.Clone();
        using (var reading = DeformConv2dWeights.ForForward(c.Weight, groups: 1))
        {
            c.Weight.AsSpan()[0] += 1f;
            float[] output = c.Forward().ToArray();
            Assert.AreNotSame(reading.Packed![0], PackedNow(c.Weight)[0]);
            Assert.IsLessThan(FloatTolerance, MaxDifference(output, c.ReferenceForward().ToArray()));
            using var fresh = DeformConv2dWeights.ForForward(old, groups: 1);
            CollectionAssert.AreEqual(AsMatrix(fresh.Packed![0]), AsMatrix(reading.Packed[0]));
        }
    }

    [TestMethod]
    public void Backward_WeightWrittenBetweenSteps_PermutedIntoTheSameArray()
    {
        var c = MakeCase();
        var upstream = Tensor<float>.Randn(6, 2, 16, 7, 7);
        var input = c.Input.Clone();
        input.RequiresGrad = true;
        float[]? permuted = null;
        for (int step = 0; step < 3; step++)
        {
            input.Grad = null;
            Functional.DeformConv2d(input, c.Offset, c.Weight, c.Bias, padding: (1, 1), mask: c.Mask).Backward(upstream);
            using (var forms = DeformConv2dWeights.ForBackward(c.Weight, groups: 1))
            {
                permuted ??= forms.Permuted;
                Assert.AreSame(permuted, forms.Permuted, $"step {step}");
            }
            c.Weight.AsSpan()[3 + step] += 0.25f;
        }
    }

    [TestMethod]
    public void ForwardAndBackward_CallersOnSeveralThreadsShareOneWeight_SameResultsAsAlone()
    {
        // Readers of one weight on several threads take leases on the same forms: every call sees the whole forms.
        var c = MakeCase();
        var upstream = Tensor<float>.Randn(6, 2, 16, 7, 7);
        float[] InputGradient()
        {
            var input = c.Input.Clone();
            input.RequiresGrad = true;
            Functional.DeformConv2d(input, c.Offset, c.Weight, c.Bias, padding: (1, 1), mask: c.Mask).Backward(upstream);
            return input.Grad!.ToArray();
        }
        float[] gradientBefore = InputGradient();
        c.Weight.AsSpan()[1] += 0.5f;
        float[] expectedOutput = c.Forward().ToArray(), expectedGradient = InputGradient();
        Assert.IsLessThan(FloatTolerance, MaxDifference(expectedOutput, c.ReferenceForward().ToArray()), "the new version's output");
        Assert.IsGreaterThan(1e-4, MaxDifference(expectedGradient, gradientBefore), "the write must change the gradient");
        c.Weight.AsSpan()[1] += 0f; // a new version of the same data: the threads find the forms stale and race to rebuild them
        int mismatches = 0;
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            for (int i = 0; i < 12; i++)
            {
                bool same = t % 2 == 0
                    ? c.Forward().ToArray().SequenceEqual(expectedOutput)
                    : InputGradient().SequenceEqual(expectedGradient);
                if (!same)
                    Interlocked.Increment(ref mismatches);
            }
        })).ToList();
        threads.ForEach(thread => thread.Start());
        threads.ForEach(thread => thread.Join());
        Assert.AreEqual(0, mismatches, "calls on several threads disagreed with the same calls alone");
    }

    /// <summary>The packed weight of the tensor's current version (the lease released at once).</summary>
    private static GemmPackedA<float>[] PackedNow(Tensor<float> weight)
    {
        using var forms = DeformConv2dWeights.ForForward(weight, groups: 1);
        return forms.Packed!;
    }

    /// <summary>op(A) read back out of a packed weight: its product with the identity.</summary>
    private static float[] AsMatrix(GemmPackedA<float> packed)
    {
        int k = packed.K;
        var identity = new float[k * k];
        for (int i = 0; i < k; i++)
            identity[i * k + i] = 1f;
        var matrix = new float[packed.M * k];
        Gemm.MultiplyPacked(packed, false, k, 1f, identity, k, 0f, matrix, k);
        return matrix;
    }

    [TestMethod]
    public void Forward_Cached_BitwiseSameAsFreshTensor()
    {
        // A clone of the weight has no entry yet: its forward packs afresh and must agree to the bit.
        var c = MakeCase();
        c.Forward();
        float[] cached = c.Forward().ToArray();
        float[] fresh = (c with { Weight = c.Weight.Clone() }).Forward().ToArray();
        CollectionAssert.AreEqual(fresh, cached);
    }

    [TestMethod]
    [DataRow("AsSpan")]
    [DataRow("Indexer")]
    [DataRow("WriteThroughView")]
    [DataRow("Assign")]
    [DataRow("SgdStep")]
    [DataRow("LoadStateDict")]
    public void Forward_AfterWeightWrite_UsesNewWeight(string path)
    {
        var c = MakeCase();
        float[] before = c.Forward().ToArray();
        Write(c, path);
        float[] after = c.Forward().ToArray();
        float[] expected = c.ReferenceForward().ToArray();
        Assert.IsGreaterThan(1e-3, MaxDifference(before, expected), "the write must change the output");
        Assert.IsLessThan(FloatTolerance, MaxDifference(after, expected), path);
    }

    [TestMethod]
    public void Backward_AfterWeightWrite_InputGradientUsesNewWeight()
    {
        var c = MakeCase();
        var upstream = Tensor<float>.Randn(6, 2, 16, 7, 7);
        float[] InputGradient(bool reference)
        {
            bool saved = EngineOptions.UseReferenceKernels;
            try
            {
                EngineOptions.UseReferenceKernels = reference;
                var input = c.Input.Clone();
                input.RequiresGrad = true;
                Functional.DeformConv2d(input, c.Offset, c.Weight, c.Bias, padding: (1, 1), mask: c.Mask).Backward(upstream);
                return input.Grad!.ToArray();
            }
            finally
            {
                EngineOptions.UseReferenceKernels = saved;
            }
        }
        InputGradient(reference: false);
        c.Weight.AsSpan()[5] += 1f;
        Assert.IsLessThan(FloatTolerance, MaxDifference(InputGradient(reference: false), InputGradient(reference: true)));
    }

    private static void Write(Case c, string path)
    {
        var weight = c.Weight;
        switch (path)
        {
            case "AsSpan":
                weight.AsSpan()[0] += 1f;
                break;
            case "Indexer":
                weight[3, 2, 1, 1] = 2f;
                break;
            case "WriteThroughView":
                weight.Reshape(16, 72).AsSpan()[100] -= 1f;
                break;
            case "Assign":
                weight.Assign(weight.MulScalar(-0.5f));
                break;
            case "SgdStep":
            {
                var parameter = new Parameter<float>(weight);
                Functional.DeformConv2d(c.Input, c.Offset, weight, c.Bias, padding: (1, 1), mask: c.Mask).Sum().Backward();
                new Sgd<float>([parameter], learningRate: 0.5).Step();
                break;
            }
            case "LoadStateDict":
            {
                var module = new DeformConvLayer(weight);
                module.LoadStateDict(new Dictionary<string, Tensor<float>> { ["weight"] = weight.MulScalar(2f) });
                break;
            }
        }
    }

    /// <summary>A module whose one parameter is the test's weight tensor itself.</summary>
    private sealed class DeformConvLayer : Module<float>
    {
        public DeformConvLayer(Tensor<float> weight) => RegisterParameter("weight", weight);

        public override Tensor<float> Forward(Tensor<float> input) => input;
    }

    private static double MaxDifference(float[] a, float[] b) => a.Zip(b, (x, y) => (double)Math.Abs(x - y)).Max();
}
