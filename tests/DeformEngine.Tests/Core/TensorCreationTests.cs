using static DeformEngine.Tests.Core.TensorAssert;

namespace DeformEngine.Tests.Core;

[TestClass]
public class TensorCreationTests
{
    // Creation copies values exactly; nothing is computed.
    private const double Exact = 0;
    // 20 000 standard normal samples: the standard error of the mean is 1/√20000 ≈ 0.007, of the
    // variance ≈ √(2/20000) ≈ 0.01; five standard errors keep the check deterministic yet meaningful.
    private const double MomentTolerance = 0.05;

    [TestMethod]
    public void FromArray_RowMajorShape_IndexerReadsRowMajor()
    {
        static void Run<T>() where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            var t = Make<T>([1, 2, 3, 4, 5, 6], 2, 3);
            ShapeIs([2, 3], t);
            Assert.AreEqual(6, t.Numel);
            Assert.AreEqual(2, t.Rank);
            Assert.AreEqual(T.CreateChecked(6), t[1, 2]);
            Assert.AreEqual(T.CreateChecked(2), t[0, 1]);
            Assert.AreEqual(3, t.Dim(-1));
        }
        Run<float>();
        Run<double>();
    }

    [TestMethod]
    public void FromArray_SourceChangedAfterwards_TensorKeepsItsCopy()
    {
        var source = new[] { 1.0, 2.0 };
        var t = Tensor<double>.FromArray(source, 2);
        source[0] = 99;
        Close([1, 2], t, Exact);
    }

    [TestMethod]
    public void Shape_ReturnedArrayChanged_TensorShapeUnchanged()
    {
        var t = Tensor<float>.Zeros(2, 3);
        t.Shape[0] = 7;
        ShapeIs([2, 3], t);
    }

    [TestMethod]
    public void ZerosOnesFull_AnyShape_FillTheValue()
    {
        Close([0, 0, 0, 0, 0, 0], Tensor<float>.Zeros(2, 3), Exact);
        Close([1, 1, 1, 1], Tensor<double>.Ones(2, 2), Exact);
        Close([2.5, 2.5, 2.5], Tensor<float>.Full(2.5f, 3), Exact);
        ShapeIs([2, 3], Tensor<double>.ZerosLike(Tensor<double>.Ones(2, 3)));
    }

    [TestMethod]
    public void Zeros_ZeroSizedDimension_IsEmpty()
    {
        var t = Tensor<double>.Zeros(0, 3);
        Assert.AreEqual(0, t.Numel);
        ShapeIs([0, 3], t);
    }

    [TestMethod]
    public void Scalar_OneValue_RankZeroAndItem()
    {
        var t = Tensor<double>.Scalar(4.5);
        Assert.AreEqual(0, t.Rank);
        Assert.AreEqual(1, t.Numel);
        Assert.AreEqual(4.5, t.Item());
    }

    [TestMethod]
    public void Item_SeveralElements_Throws()
    {
        var ex = Assert.ThrowsExactly<InvalidOperationException>(() => Tensor<float>.Zeros(2).Item());
        Assert.Contains("[2]", ex.Message);
    }

    [TestMethod]
    public void Randn_SameSeed_SameValuesInBothPrecisions()
    {
        var a = Tensor<double>.Randn(7, 4, 5).ToArray();
        var b = Tensor<double>.Randn(7, 4, 5).ToArray();
        var f = Tensor<float>.Randn(7, 4, 5).ToArray();
        CollectionAssert.AreEqual(a, b);
        for (int i = 0; i < a.Length; i++) Assert.AreEqual((float)a[i], f[i]);
        CollectionAssert.AreNotEqual(a, Tensor<double>.Randn(8, 4, 5).ToArray());
    }

    [TestMethod]
    public void Randn_ManySamples_MeanZeroVarianceOne()
    {
        var data = Tensor<double>.Randn(2024, 20000).ToArray();
        double mean = data.Average();
        double variance = data.Select(v => (v - mean) * (v - mean)).Average();
        Assert.AreEqual(0, mean, MomentTolerance);
        Assert.AreEqual(1, variance, MomentTolerance);
    }

    [TestMethod]
    public void Rand_ManySamples_InUnitIntervalWithMeanHalf()
    {
        var data = Tensor<float>.Rand(99, 20000).ToArray();
        Assert.IsTrue(data.All(v => v >= 0 && v < 1));
        // Uniform [0,1): mean 1/2, standard error 1/√(12·20000) ≈ 0.002.
        Assert.AreEqual(0.5, data.Average(v => (double)v), MomentTolerance);
    }

    [TestMethod]
    public void ToArray_Modified_TensorUnchanged()
    {
        var t = Tensor<double>.Ones(3);
        t.ToArray()[0] = 5;
        Close([1, 1, 1], t, Exact);
    }

    [TestMethod]
    public void Clone_Modified_OriginalUnchanged()
    {
        var t = Tensor<float>.Ones(2);
        var copy = t.Clone();
        copy.AsSpan()[0] = 3;
        Close([1, 1], t, Exact);
        Close([3, 1], copy, Exact);
    }

    [TestMethod]
    public void Indexer_Write_ChangesElement()
    {
        var t = Tensor<double>.Zeros(2, 2);
        t[1, 0] = 8;
        Close([0, 0, 8, 0], t, Exact);
    }

    [TestMethod]
    public void ToString_SmallTensor_ShowsTypeShapeAndValues()
    {
        var text = Make<float>([1, 2.5, -3], 3).ToString();
        Assert.AreEqual("Tensor<Single>[3] [1, 2.5, -3]", text);
    }

    [TestMethod]
    public void ToString_LargeTensor_ShowsFirstSixValuesAndEllipsis()
    {
        var t = Tensor<double>.Zeros(2, 4);
        t.RequiresGrad = true;
        Assert.AreEqual("Tensor<Double>[2, 4] requiresGrad [0, 0, 0, 0, 0, 0, …]", t.ToString());
    }

    [TestMethod]
    public void Device_NewTensor_IsCpu()
    {
        var t = Tensor<double>.Zeros(1);
        Assert.IsTrue(t.Device.IsCpu);
        Assert.AreSame(t, t.To(Device.Cpu));
    }
}
