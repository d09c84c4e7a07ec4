using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

/// <summary>The RoI pooling operators refuse bad arguments with the argument's name and the expected and
/// actual shapes or values, whichever backend holds the tensors.</summary>
[TestClass]
[DoNotParallelize] // the CPU rows switch EngineOptions.UseReferenceKernels
public class RoIArgumentTests
{
    private static readonly Tensor<double> Input = Tensor<double>.Randn(61, 2, 4, 6, 6);
    private static readonly Tensor<double> GoodRois = RoITestData.Rois([0, 0.5, 0.5, 4, 4], [1, 1, 1, 3, 5]);

    public static IEnumerable<object[]> Backends => TestBackends.All;

    /// <summary>Runs <paramref name="call"/> with the tensors on <paramref name="backend"/>'s device, expects
    /// exactly <typeparamref name="TException"/> naming <paramref name="parameter"/>, and checks that the
    /// message holds every fragment.</summary>
    private static void Expect<TException>(string backend, Action<TestBackend> call, string parameter, params string[] fragments)
        where TException : ArgumentException
    {
        using var target = TestBackends.Open(backend);
        var exception = Assert.ThrowsExactly<TException>(() => call(target));
        Assert.AreEqual(parameter, exception.ParamName);
        foreach (var fragment in fragments)
            Assert.IsTrue(exception.Message.Contains(fragment, StringComparison.Ordinal),
                $"message \"{exception.Message}\" lacks \"{fragment}\"");
    }

    private static void RoIAlign(TestBackend b, Tensor<double> rois) => Functional.RoIAlign(b.On(Input), rois, (2, 2));

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void RoIAlign_RoisNotKBy5_ThrowsWithShape(string backend)
    {
        Expect<ArgumentException>(backend, b => RoIAlign(b, b.On(Tensor<double>.Zeros(2, 4))), "rois", "expected shape [K, 5]", "got [2, 4]");
        Expect<ArgumentException>(backend, b => RoIAlign(b, b.On(Tensor<double>.Zeros(5))), "rois", "expected shape [K, 5]", "got [5]");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void RoIAlign_BatchIndexOutOfRange_Throws(string backend)
    {
        Expect<ArgumentOutOfRangeException>(backend, b => RoIAlign(b, b.On(RoITestData.Rois([2, 0, 0, 1, 1]))), "rois",
            "row 0 has batch index 2", "[0, 2)");
        Expect<ArgumentOutOfRangeException>(backend, b => RoIAlign(b, b.On(RoITestData.Rois([0, 0, 0, 1, 1], [-1, 0, 0, 1, 1]))), "rois",
            "row 1 has batch index -1");
        Expect<ArgumentOutOfRangeException>(backend, b => RoIAlign(b, b.On(RoITestData.Rois([0.5, 0, 0, 1, 1]))), "rois",
            "batch index 0.5", "expected an integer");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void RoIAlign_CornersInWrongOrder_Throws(string backend)
    {
        Expect<ArgumentException>(backend, b => RoIAlign(b, b.On(RoITestData.Rois([0, 3, 0, 1, 1]))), "rois", "x2 = 1 < x1 = 3");
        Expect<ArgumentException>(backend, b => RoIAlign(b, b.On(RoITestData.Rois([0, 0, 2.5, 1, 1]))), "rois", "y2 = 1 < y1 = 2.5");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void RoIAlign_NonFiniteCoordinates_Throw(string backend)
    {
        Expect<ArgumentException>(backend, b => RoIAlign(b, b.On(RoITestData.Rois([0, double.NaN, 0, 1, 1]))), "rois", "row 0", "NaN", "not finite");
        Expect<ArgumentException>(backend, b => RoIAlign(b, b.On(RoITestData.Rois([0, 0, 0, double.PositiveInfinity, 1]))), "rois", "not finite");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void RoIAlign_HugeRoiWithAdaptiveSampling_ThrowsInsteadOfSamplingForever(string backend)
    {
        Expect<ArgumentOutOfRangeException>(backend, b => RoIAlign(b, b.On(RoITestData.Rois([0, 0, 0, 1e12, 1]))), "rois",
            "row 0", "pass a positive samplingRatio");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void RoIAlign_BadScalars_Throw(string backend)
    {
        Expect<ArgumentOutOfRangeException>(backend, b => Functional.RoIAlign(b.On(Input), b.On(GoodRois), (0, 2)), "outputSize", "at least 1×1", "(0, 2)");
        Expect<ArgumentOutOfRangeException>(backend, b => Functional.RoIAlign(b.On(Input), b.On(GoodRois), (2, 2), spatialScale: 0), "spatialScale", "> 0", "got 0");
        Expect<ArgumentOutOfRangeException>(backend, b => Functional.RoIAlign(b.On(Input), b.On(GoodRois), (2, 2), spatialScale: double.NaN), "spatialScale", "NaN");
        Expect<ArgumentOutOfRangeException>(backend, b => Functional.RoIAlign(b.On(Input), b.On(GoodRois), (2, 2), samplingRatio: 1 << 20), "samplingRatio", "1048576");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void RoIAlign_BadInput_Throws(string backend)
    {
        Expect<ArgumentNullException>(backend, b => Functional.RoIAlign(null!, b.On(GoodRois), (2, 2)), "input");
        Expect<ArgumentNullException>(backend, b => Functional.RoIAlign(b.On(Input), null!, (2, 2)), "rois");
        Expect<ArgumentException>(backend, b => Functional.RoIAlign(b.On(Tensor<double>.Zeros(4, 6, 6)), b.On(GoodRois), (2, 2)), "input", "4-D", "[4, 6, 6]");
        Expect<ArgumentException>(backend, b => Functional.RoIAlign(b.On(Tensor<double>.Zeros(2, 4, 0, 6)), b.On(GoodRois), (2, 2)), "input", "1×1", "[2, 4, 0, 6]");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void PSRoIAlign_ChannelsNotDivisibleByBins_Throws(string backend)
    {
        Expect<ArgumentException>(backend, b => Functional.PSRoIAlign(b.On(Input), b.On(GoodRois), (3, 1)), "input", "divisible by the 3×1 = 3 bins", "got 4 channels");
        Expect<ArgumentOutOfRangeException>(backend, b => Functional.PSRoIAlign(b.On(Input), b.On(GoodRois), (2, 0)), "outputSize", "(2, 0)");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformRoIPool_OffsetShapeWrong_Throws(string backend)
    {
        Expect<ArgumentException>(backend, b => Functional.DeformRoIPool(b.On(Input), b.On(GoodRois), b.On(Tensor<double>.Zeros(2, 2, 3, 3)), (2, 2)), "offset",
            "expected shape [K, 2, PH, PW] = [2, 2, 2, 2]", "got [2, 2, 3, 3]");
        Expect<ArgumentException>(backend, b => Functional.DeformRoIPool(b.On(Input), b.On(GoodRois), b.On(Tensor<double>.Zeros(3, 2, 2, 2)), (2, 2)), "offset",
            "expected shape [K, 2, PH, PW] = [2, 2, 2, 2]", "got [3, 2, 2, 2]");
        Expect<ArgumentOutOfRangeException>(backend, b => Functional.DeformRoIPool(b.On(Input), b.On(GoodRois), null, (2, 2), gamma: double.PositiveInfinity), "gamma", "finite");
        Expect<ArgumentException>(backend, b => Functional.DeformRoIPool(b.On(Input), b.On(RoITestData.Rois([0, 1, 1, 0, 2])), null, (2, 2)), "rois", "x2 = 0 < x1 = 1");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void ModulatedDeformRoIPool_MaskShapeWrong_Throws(string backend)
    {
        Expect<ArgumentException>(backend, b => Functional.ModulatedDeformRoIPool(b.On(Input), b.On(GoodRois), null, b.On(Tensor<double>.Ones(2, 2, 2, 2)), (2, 2)), "mask",
            "expected shape [K, 1, PH, PW] = [2, 1, 2, 2]", "got [2, 2, 2, 2]");
        Expect<ArgumentNullException>(backend, b => Functional.ModulatedDeformRoIPool(b.On(Input), b.On(GoodRois), null, null!, (2, 2)), "mask");
        Expect<ArgumentException>(backend, b => Functional.ModulatedDeformRoIPool(b.On(Input), b.On(GoodRois), b.On(Tensor<double>.Zeros(2, 1, 2, 2)), b.On(Tensor<double>.Ones(2, 1, 2, 2)), (2, 2)),
            "offset", "expected shape [K, 2, PH, PW] = [2, 2, 2, 2]");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformPSRoIPool_ChannelsNotOutputDimTimesGroupsSquared_Throws(string backend)
    {
        Expect<ArgumentException>(backend, b => Functional.DeformPSRoIPool(b.On(Input), b.On(GoodRois), null, 1.0, outputDim: 2, groupSize: 2, pooledSize: 2, noTrans: true),
            "input", "outputDim·groupSize² = 2·2² = 8 channels", "got 4");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformPSRoIPool_TransShapeWrong_Throws(string backend)
    {
        Expect<ArgumentNullException>(backend, b => Functional.DeformPSRoIPool(b.On(Input), b.On(GoodRois), null, 1.0, 1, 2, 2, transStd: 0.1), "trans");
        Expect<ArgumentException>(backend, b => Functional.DeformPSRoIPool(b.On(Input), b.On(GoodRois), b.On(Tensor<double>.Zeros(2, 2, 3, 3)), 1.0, 1, 2, 2), "trans",
            "[2, 2·numClasses, 2, 2]", "got [2, 2, 3, 3]");
        Expect<ArgumentException>(backend, b => Functional.DeformPSRoIPool(b.On(Input), b.On(GoodRois), b.On(Tensor<double>.Zeros(2, 3, 2, 2)), 1.0, 1, 2, 2), "trans",
            "got [2, 3, 2, 2]");
        Expect<ArgumentException>(backend, b => Functional.DeformPSRoIPool(b.On(Input), b.On(GoodRois), b.On(Tensor<double>.Zeros(1, 2, 2, 2)), 1.0, 1, 2, 2), "trans",
            "got [1, 2, 2, 2]");
        Expect<ArgumentException>(backend, b => Functional.DeformPSRoIPool(b.On(Input), b.On(GoodRois), b.On(Tensor<double>.Zeros(2, 2, 1, 1)), 1.0, 1, 2, 2, partSize: 2), "trans",
            "[2, 2·numClasses, 2, 2]", "got [2, 2, 1, 1]");
        Expect<ArgumentException>(backend, b => Functional.DeformPSRoIPool(b.On(Input), b.On(GoodRois), b.On(Tensor<double>.Zeros(2, 4, 2, 2)), 1.0, 1, 2, 2), "trans",
            "2 classes", "outputDim = 1");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformPSRoIPool_BadScalars_Throw(string backend)
    {
        Expect<ArgumentOutOfRangeException>(backend, b => Functional.DeformPSRoIPool(b.On(Input), b.On(GoodRois), null, 1.0, 0, 2, 2, noTrans: true), "outputDim", "got 0");
        Expect<ArgumentOutOfRangeException>(backend, b => Functional.DeformPSRoIPool(b.On(Input), b.On(GoodRois), null, 1.0, 4, 0, 2, noTrans: true), "groupSize", "got 0");
        Expect<ArgumentOutOfRangeException>(backend, b => Functional.DeformPSRoIPool(b.On(Input), b.On(GoodRois), null, 1.0, 1, 2, 0, noTrans: true), "pooledSize", "got 0");
        Expect<ArgumentOutOfRangeException>(backend, b => Functional.DeformPSRoIPool(b.On(Input), b.On(GoodRois), null, 1.0, 1, 2, 2, partSize: -1, noTrans: true), "partSize", "got -1");
        Expect<ArgumentOutOfRangeException>(backend, b => Functional.DeformPSRoIPool(b.On(Input), b.On(GoodRois), null, 1.0, 1, 2, 2, samplePerPart: 0, noTrans: true), "samplePerPart", "got 0");
        Expect<ArgumentOutOfRangeException>(backend, b => Functional.DeformPSRoIPool(b.On(Input), b.On(GoodRois), null, 1.0, 1, 2, 2, transStd: double.NaN, noTrans: true), "transStd", "NaN");
        Expect<ArgumentOutOfRangeException>(backend, b => Functional.DeformPSRoIPool(b.On(Input), b.On(GoodRois), null, -1.0, 1, 2, 2, noTrans: true), "spatialScale", "got -1");
        Expect<ArgumentOutOfRangeException>(backend, b => Functional.DeformPSRoIPool(b.On(Input), b.On(RoITestData.Rois([5, 0, 0, 1, 1])), null, 1.0, 1, 2, 2, noTrans: true),
            "rois", "batch index 5");
    }
}
