namespace DeformEngine.Tests.Ops;

[TestClass]
public class RoIArgumentTests
{
    private static readonly Tensor<double> Input = Tensor<double>.Randn(61, 2, 4, 6, 6);
    private static readonly Tensor<double> GoodRois = RoITestData.Rois([0, 0.5, 0.5, 4, 4], [1, 1, 1, 3, 5]);

    /// <summary>Runs <paramref name="call"/>, expects exactly <typeparamref name="TException"/> naming
    /// <paramref name="parameter"/>, and checks that the message holds every fragment.</summary>
    private static void Expect<TException>(Action call, string parameter, params string[] fragments)
        where TException : ArgumentException
    {
        var exception = Assert.ThrowsExactly<TException>(call);
        Assert.AreEqual(parameter, exception.ParamName);
        foreach (var fragment in fragments)
            Assert.IsTrue(exception.Message.Contains(fragment, StringComparison.Ordinal),
                $"message \"{exception.Message}\" lacks \"{fragment}\"");
    }

    private static void RoIAlign(Tensor<double> rois) => Functional.RoIAlign(Input, rois, (2, 2));

    [TestMethod]
    public void RoIAlign_RoisNotKBy5_ThrowsWithShape()
    {
        Expect<ArgumentException>(() => RoIAlign(Tensor<double>.Zeros(2, 4)), "rois", "expected shape [K, 5]", "got [2, 4]");
        Expect<ArgumentException>(() => RoIAlign(Tensor<double>.Zeros(5)), "rois", "expected shape [K, 5]", "got [5]");
    }

    [TestMethod]
    public void RoIAlign_BatchIndexOutOfRange_Throws()
    {
        Expect<ArgumentOutOfRangeException>(() => RoIAlign(RoITestData.Rois([2, 0, 0, 1, 1])), "rois",
            "row 0 has batch index 2", "[0, 2)");
        Expect<ArgumentOutOfRangeException>(() => RoIAlign(RoITestData.Rois([0, 0, 0, 1, 1], [-1, 0, 0, 1, 1])), "rois",
            "row 1 has batch index -1");
        Expect<ArgumentOutOfRangeException>(() => RoIAlign(RoITestData.Rois([0.5, 0, 0, 1, 1])), "rois",
            "batch index 0.5", "expected an integer");
    }

    [TestMethod]
    public void RoIAlign_CornersInWrongOrder_Throws()
    {
        Expect<ArgumentException>(() => RoIAlign(RoITestData.Rois([0, 3, 0, 1, 1])), "rois", "x2 = 1 < x1 = 3");
        Expect<ArgumentException>(() => RoIAlign(RoITestData.Rois([0, 0, 2.5, 1, 1])), "rois", "y2 = 1 < y1 = 2.5");
    }

    [TestMethod]
    public void RoIAlign_NonFiniteCoordinates_Throw()
    {
        Expect<ArgumentException>(() => RoIAlign(RoITestData.Rois([0, double.NaN, 0, 1, 1])), "rois", "row 0", "NaN", "not finite");
        Expect<ArgumentException>(() => RoIAlign(RoITestData.Rois([0, 0, 0, double.PositiveInfinity, 1])), "rois", "not finite");
    }

    [TestMethod]
    public void RoIAlign_HugeRoiWithAdaptiveSampling_ThrowsInsteadOfSamplingForever()
    {
        Expect<ArgumentOutOfRangeException>(() => RoIAlign(RoITestData.Rois([0, 0, 0, 1e12, 1])), "rois",
            "row 0", "pass a positive samplingRatio");
    }

    [TestMethod]
    public void RoIAlign_BadScalars_Throw()
    {
        Expect<ArgumentOutOfRangeException>(() => Functional.RoIAlign(Input, GoodRois, (0, 2)), "outputSize", "at least 1×1", "(0, 2)");
        Expect<ArgumentOutOfRangeException>(() => Functional.RoIAlign(Input, GoodRois, (2, 2), spatialScale: 0), "spatialScale", "> 0", "got 0");
        Expect<ArgumentOutOfRangeException>(() => Functional.RoIAlign(Input, GoodRois, (2, 2), spatialScale: double.NaN), "spatialScale", "NaN");
        Expect<ArgumentOutOfRangeException>(() => Functional.RoIAlign(Input, GoodRois, (2, 2), samplingRatio: 1 << 20), "samplingRatio", "1048576");
    }

    [TestMethod]
    public void RoIAlign_BadInput_Throws()
    {
        Expect<ArgumentNullException>(() => Functional.RoIAlign(null!, GoodRois, (2, 2)), "input");
        Expect<ArgumentNullException>(() => Functional.RoIAlign(Input, null!, (2, 2)), "rois");
        Expect<ArgumentException>(() => Functional.RoIAlign(Tensor<double>.Zeros(4, 6, 6), GoodRois, (2, 2)), "input", "4-D", "[4, 6, 6]");
        Expect<ArgumentException>(() => Functional.RoIAlign(Tensor<double>.Zeros(2, 4, 0, 6), GoodRois, (2, 2)), "input", "1×1", "[2, 4, 0, 6]");
    }

    [TestMethod]
    public void PSRoIAlign_ChannelsNotDivisibleByBins_Throws()
    {
        Expect<ArgumentException>(() => Functional.PSRoIAlign(Input, GoodRois, (3, 1)), "input", "divisible by the 3×1 = 3 bins", "got 4 channels");
        Expect<ArgumentOutOfRangeException>(() => Functional.PSRoIAlign(Input, GoodRois, (2, 0)), "outputSize", "(2, 0)");
    }

    [TestMethod]
    public void DeformRoIPool_OffsetShapeWrong_Throws()
    {
        Expect<ArgumentException>(() => Functional.DeformRoIPool(Input, GoodRois, Tensor<double>.Zeros(2, 2, 3, 3), (2, 2)), "offset",
            "expected shape [K, 2, PH, PW] = [2, 2, 2, 2]", "got [2, 2, 3, 3]");
        Expect<ArgumentException>(() => Functional.DeformRoIPool(Input, GoodRois, Tensor<double>.Zeros(3, 2, 2, 2), (2, 2)), "offset",
            "expected shape [K, 2, PH, PW] = [2, 2, 2, 2]", "got [3, 2, 2, 2]");
        Expect<ArgumentOutOfRangeException>(() => Functional.DeformRoIPool(Input, GoodRois, null, (2, 2), gamma: double.PositiveInfinity), "gamma", "finite");
        Expect<ArgumentException>(() => Functional.DeformRoIPool(Input, RoITestData.Rois([0, 1, 1, 0, 2]), null, (2, 2)), "rois", "x2 = 0 < x1 = 1");
    }

    [TestMethod]
    public void ModulatedDeformRoIPool_MaskShapeWrong_Throws()
    {
        Expect<ArgumentException>(() => Functional.ModulatedDeformRoIPool(Input, GoodRois, null, Tensor<double>.Ones(2, 2, 2, 2), (2, 2)), "mask",
            "expected shape [K, 1, PH, PW] = [2, 1, 2, 2]", "got [2, 2, 2, 2]");
        Expect<ArgumentNullException>(() => Functional.ModulatedDeformRoIPool(Input, GoodRois, null, null!, (2, 2)), "mask");
        Expect<ArgumentException>(() => Functional.ModulatedDeformRoIPool(Input, GoodRois, Tensor<double>.Zeros(2, 1, 2, 2), Tensor<double>.Ones(2, 1, 2, 2), (2, 2)),
            "offset", "expected shape [K, 2, PH, PW] = [2, 2, 2, 2]");
    }

    [TestMethod]
    public void DeformPSRoIPool_ChannelsNotOutputDimTimesGroupsSquared_Throws()
    {
        Expect<ArgumentException>(() => Functional.DeformPSRoIPool(Input, GoodRois, null, 1.0, outputDim: 2, groupSize: 2, pooledSize: 2, noTrans: true),
            "input", "outputDim·groupSize² = 2·2² = 8 channels", "got 4");
    }

    [TestMethod]
    public void DeformPSRoIPool_TransShapeWrong_Throws()
    {
        Expect<ArgumentNullException>(() => Functional.DeformPSRoIPool(Input, GoodRois, null, 1.0, 1, 2, 2, transStd: 0.1), "trans");
        Expect<ArgumentException>(() => Functional.DeformPSRoIPool(Input, GoodRois, Tensor<double>.Zeros(2, 2, 3, 3), 1.0, 1, 2, 2), "trans",
            "[2, 2·numClasses, 2, 2]", "got [2, 2, 3, 3]");
        Expect<ArgumentException>(() => Functional.DeformPSRoIPool(Input, GoodRois, Tensor<double>.Zeros(2, 3, 2, 2), 1.0, 1, 2, 2), "trans",
            "got [2, 3, 2, 2]");
        Expect<ArgumentException>(() => Functional.DeformPSRoIPool(Input, GoodRois, Tensor<double>.Zeros(1, 2, 2, 2), 1.0, 1, 2, 2), "trans",
            "got [1, 2, 2, 2]");
        Expect<ArgumentException>(() => Functional.DeformPSRoIPool(Input, GoodRois, Tensor<double>.Zeros(2, 2, 1, 1), 1.0, 1, 2, 2, partSize: 2), "trans",
            "[2, 2·numClasses, 2, 2]", "got [2, 2, 1, 1]");
        Expect<ArgumentException>(() => Functional.DeformPSRoIPool(Input, GoodRois, Tensor<double>.Zeros(2, 4, 2, 2), 1.0, 1, 2, 2), "trans",
            "2 classes", "outputDim = 1");
    }

    [TestMethod]
    public void DeformPSRoIPool_BadScalars_Throw()
    {
        Expect<ArgumentOutOfRangeException>(() => Functional.DeformPSRoIPool(Input, GoodRois, null, 1.0, 0, 2, 2, noTrans: true), "outputDim", "got 0");
        Expect<ArgumentOutOfRangeException>(() => Functional.DeformPSRoIPool(Input, GoodRois, null, 1.0, 4, 0, 2, noTrans: true), "groupSize", "got 0");
        Expect<ArgumentOutOfRangeException>(() => Functional.DeformPSRoIPool(Input, GoodRois, null, 1.0, 1, 2, 0, noTrans: true), "pooledSize", "got 0");
        Expect<ArgumentOutOfRangeException>(() => Functional.DeformPSRoIPool(Input, GoodRois, null, 1.0, 1, 2, 2, partSize: -1, noTrans: true), "partSize", "got -1");
        Expect<ArgumentOutOfRangeException>(() => Functional.DeformPSRoIPool(Input, GoodRois, null, 1.0, 1, 2, 2, samplePerPart: 0, noTrans: true), "samplePerPart", "got 0");
        Expect<ArgumentOutOfRangeException>(() => Functional.DeformPSRoIPool(Input, GoodRois, null, 1.0, 1, 2, 2, transStd: double.NaN, noTrans: true), "transStd", "NaN");
        Expect<ArgumentOutOfRangeException>(() => Functional.DeformPSRoIPool(Input, GoodRois, null, -1.0, 1, 2, 2, noTrans: true), "spatialScale", "got -1");
        Expect<ArgumentOutOfRangeException>(() => Functional.DeformPSRoIPool(Input, RoITestData.Rois([5, 0, 0, 1, 1]), null, 1.0, 1, 2, 2, noTrans: true),
            "rois", "batch index 5");
    }
}
