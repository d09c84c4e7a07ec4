namespace DeformEngine.Tests.Ops;

/// <summary>Bad arguments to GridSample and MultiScaleDeformableAttention: each refused before any work with
/// an ArgumentException that names the argument and states the expected and the actual value.</summary>
[TestClass]
public class SamplingArgumentTests
{
    private static void Expect<TException>(Action call, string parameter, params string[] fragments) where TException : ArgumentException
    {
        var ex = Assert.ThrowsExactly<TException>(call);
        Assert.AreEqual(parameter, ex.ParamName, ex.Message);
        foreach (var fragment in fragments) StringAssert.Contains(ex.Message, fragment);
    }

    // ---- GridSample -----------------------------------------------------------------------

    private static readonly Tensor<double> Input = Tensor<double>.Zeros(2, 3, 4, 5);
    private static readonly Tensor<double> Grid = Tensor<double>.Zeros(2, 6, 7, 2);

    [TestMethod]
    public void GridSample_InputNot4D_ThrowsNamingInput() =>
        Expect<ArgumentException>(() => Functional.GridSample(Tensor<double>.Zeros(3, 4, 5), Grid), "input", "4-D", "[3, 4, 5]");

    [TestMethod]
    public void GridSample_GridNot4D_ThrowsNamingGrid() =>
        Expect<ArgumentException>(() => Functional.GridSample(Input, Tensor<double>.Zeros(2, 42, 2)), "grid", "4-D", "[2, 42, 2]");

    [TestMethod]
    public void GridSample_GridLastDimensionNotTwo_ThrowsWithExpectedShape() =>
        Expect<ArgumentException>(() => Functional.GridSample(Input, Tensor<double>.Zeros(2, 6, 7, 3)), "grid", "[2, 6, 7, 2]", "[2, 6, 7, 3]");

    [TestMethod]
    public void GridSample_GridBatchMismatch_ThrowsWithExpectedShape() =>
        Expect<ArgumentException>(() => Functional.GridSample(Input, Tensor<double>.Zeros(1, 6, 7, 2)), "grid", "[2, 6, 7, 2]", "[1, 6, 7, 2]");

    [TestMethod]
    public void GridSample_EmptyInputPlane_ThrowsNamingInput() =>
        Expect<ArgumentException>(() => Functional.GridSample(Tensor<double>.Zeros(2, 3, 0, 5), Grid), "input", "at least 1", "[2, 3, 0, 5]");

    [TestMethod]
    public void GridSample_EmptyGrid_ThrowsNamingGrid() =>
        Expect<ArgumentException>(() => Functional.GridSample(Input, Tensor<double>.Zeros(2, 0, 7, 2)), "grid", "at least 1", "[2, 0, 7, 2]");

    [TestMethod]
    public void GridSample_UndefinedMode_ThrowsOutOfRangeNamingMode() =>
        Expect<ArgumentOutOfRangeException>(() => Functional.GridSample(Input, Grid, (GridSampleMode)7), "mode", "Bilinear or Nearest", "7");

    [TestMethod]
    public void GridSample_UndefinedPadding_ThrowsOutOfRangeNamingPaddingMode() =>
        Expect<ArgumentOutOfRangeException>(() => Functional.GridSample(Input, Grid, paddingMode: (GridSamplePadding)(-1)), "paddingMode",
            "Zeros, Border or Reflection", "-1");

    [TestMethod]
    public void GridSample_NullGrid_ThrowsNamingGrid() =>
        Expect<ArgumentNullException>(() => Functional.GridSample(Input, null!), "grid");

    // ---- MultiScaleDeformableAttention ----------------------------------------------------

    // Two levels 3×4 and 2×2: S = 16; batch 2, 3 heads of 5 channels, 6 queries, 4 points.
    private static readonly (int H, int W)[] Shapes = [(3, 4), (2, 2)];
    private static readonly int[] Starts = [0, 12];
    private static readonly Tensor<double> Value = Tensor<double>.Zeros(2, 16, 3, 5);
    private static readonly Tensor<double> Locations = Tensor<double>.Zeros(2, 6, 3, 2, 4, 2);
    private static readonly Tensor<double> Weights = Tensor<double>.Zeros(2, 6, 3, 2, 4);

    private static void Attention(Tensor<double>? value = null, (int H, int W)[]? shapes = null, int[]? starts = null,
        Tensor<double>? locations = null, Tensor<double>? weights = null) =>
        Functional.MultiScaleDeformableAttention(value ?? Value, shapes ?? Shapes, starts ?? Starts, locations ?? Locations, weights ?? Weights);

    [TestMethod]
    public void MultiScaleDeformableAttention_Valid_Runs() =>
        CollectionAssert.AreEqual(new[] { 2, 6, 15 }, Functional.MultiScaleDeformableAttention(Value, Shapes, Starts, Locations, Weights).Shape);

    [TestMethod]
    public void MultiScaleDeformableAttention_ValueNot4D_ThrowsNamingValue() =>
        Expect<ArgumentException>(() => Attention(value: Tensor<double>.Zeros(2, 16, 15)), "value", "4-D", "[2, 16, 15]");

    [TestMethod]
    public void MultiScaleDeformableAttention_LocationsNot6D_ThrowsNamingLocations() =>
        Expect<ArgumentException>(() => Attention(locations: Tensor<double>.Zeros(2, 6, 3, 8, 2)), "samplingLocations", "6-D", "[2, 6, 3, 8, 2]");

    [TestMethod]
    public void MultiScaleDeformableAttention_WeightsNot5D_ThrowsNamingWeights() =>
        Expect<ArgumentException>(() => Attention(weights: Tensor<double>.Zeros(2, 6, 3, 8)), "attentionWeights", "5-D", "[2, 6, 3, 8]");

    [TestMethod]
    public void MultiScaleDeformableAttention_LocationHeadsMismatch_ThrowsNamingLocations() =>
        Expect<ArgumentException>(() => Attention(locations: Tensor<double>.Zeros(2, 6, 4, 2, 4, 2)), "samplingLocations",
            "[2, queries, 3, 2, points, 2]", "[2, 6, 4, 2, 4, 2]");

    [TestMethod]
    public void MultiScaleDeformableAttention_LocationLevelsMismatch_ThrowsNamingLocations() =>
        Expect<ArgumentException>(() => Attention(locations: Tensor<double>.Zeros(2, 6, 3, 3, 4, 2)), "samplingLocations",
            "2 levels of spatialShapes", "[2, 6, 3, 3, 4, 2]");

    [TestMethod]
    public void MultiScaleDeformableAttention_LocationBatchMismatch_ThrowsNamingLocations() =>
        Expect<ArgumentException>(() => Attention(locations: Tensor<double>.Zeros(1, 6, 3, 2, 4, 2)), "samplingLocations",
            "[2, queries, 3, 2, points, 2]", "[1, 6, 3, 2, 4, 2]");

    [TestMethod]
    public void MultiScaleDeformableAttention_LocationsNotPairs_ThrowsNamingLocations() =>
        Expect<ArgumentException>(() => Attention(locations: Tensor<double>.Zeros(2, 6, 3, 2, 4, 3)), "samplingLocations", "(x, y) last",
            "[2, 6, 3, 2, 4, 3]");

    [TestMethod]
    public void MultiScaleDeformableAttention_WeightPointsMismatch_ThrowsNamingWeights() =>
        Expect<ArgumentException>(() => Attention(weights: Tensor<double>.Zeros(2, 6, 3, 2, 5)), "attentionWeights", "[2, 6, 3, 2, 4]",
            "[2, 6, 3, 2, 5]");

    [TestMethod]
    public void MultiScaleDeformableAttention_WeightHeadsMismatch_ThrowsNamingWeights() =>
        Expect<ArgumentException>(() => Attention(weights: Tensor<double>.Zeros(2, 6, 2, 2, 4)), "attentionWeights", "[2, 6, 3, 2, 4]",
            "[2, 6, 2, 2, 4]");

    [TestMethod]
    public void MultiScaleDeformableAttention_WeightQueriesMismatch_ThrowsNamingWeights() =>
        Expect<ArgumentException>(() => Attention(weights: Tensor<double>.Zeros(2, 5, 3, 2, 4)), "attentionWeights", "[2, 6, 3, 2, 4]",
            "[2, 5, 3, 2, 4]");

    [TestMethod]
    public void MultiScaleDeformableAttention_ShapesNotSummingToS_ThrowsNamingSpatialShapes() =>
        Expect<ArgumentException>(() => Attention(shapes: [(3, 4), (2, 3)], starts: [0, 12]), "spatialShapes", "sum to 18", "S = 16");

    [TestMethod]
    public void MultiScaleDeformableAttention_NoLevels_ThrowsNamingSpatialShapes() =>
        Expect<ArgumentException>(() => Attention(shapes: [], starts: []), "spatialShapes", "at least one level");

    [TestMethod]
    [DataRow(0, 4)]
    [DataRow(3, -4)]
    public void MultiScaleDeformableAttention_NonPositiveLevelSize_ThrowsNamingSpatialShapes(int h, int w) =>
        Expect<ArgumentException>(() => Attention(shapes: [(h, w), (2, 2)]), "spatialShapes", "positive sizes", $"({h}, {w}) at level 0");

    [TestMethod]
    public void MultiScaleDeformableAttention_StartIndexDisagreesWithShapes_ThrowsNamingLevelStartIndex() =>
        Expect<ArgumentException>(() => Attention(starts: [0, 11]), "levelStartIndex", "expected 12 at level 1", "got 11");

    [TestMethod]
    public void MultiScaleDeformableAttention_StartIndexNotZeroFirst_ThrowsNamingLevelStartIndex() =>
        Expect<ArgumentException>(() => Attention(starts: [1, 12]), "levelStartIndex", "expected 0 at level 0", "got 1");

    [TestMethod]
    public void MultiScaleDeformableAttention_StartIndexWrongLength_ThrowsNamingLevelStartIndex() =>
        Expect<ArgumentException>(() => Attention(starts: [0, 12, 16]), "levelStartIndex", "expected 2 entries", "got 3");

    [TestMethod]
    public void MultiScaleDeformableAttention_EmptyValueChannels_ThrowsNamingValue() =>
        Expect<ArgumentException>(() => Attention(value: Tensor<double>.Zeros(2, 16, 3, 0)), "value", "at least 1", "[2, 16, 3, 0]");

    [TestMethod]
    public void MultiScaleDeformableAttention_NoPoints_ThrowsNamingLocations() =>
        Expect<ArgumentException>(() => Attention(locations: Tensor<double>.Zeros(2, 6, 3, 2, 0, 2), weights: Tensor<double>.Zeros(2, 6, 3, 2, 0)),
            "samplingLocations", "at least 1", "[2, 6, 3, 2, 0, 2]");

    [TestMethod]
    public void MultiScaleDeformableAttention_NullShapes_ThrowsNamingSpatialShapes() =>
        Expect<ArgumentNullException>(() => Functional.MultiScaleDeformableAttention(Value, null!, Starts, Locations, Weights), "spatialShapes");
}
