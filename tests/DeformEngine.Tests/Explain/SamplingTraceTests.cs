using DeformEngine.Explain;
using static DeformEngine.Tests.Explain.SamplingStacks;

namespace DeformEngine.Tests.Explain;

[TestClass]
public class SamplingTraceTests
{
    // Positions are sums of integers, halves and the offsets' few decimals: exact or within a few ulps.
    private const double PositionTolerance = 1e-12;

    public static IEnumerable<object[]> RegularCases => SamplingStacks.RegularCases;

    public static IEnumerable<object[]> AllCases => SamplingStacks.AllCases;

    [TestMethod]
    [DynamicData(nameof(AllCases))]
    public void Follow_StackWithKnownOffsets_ImagePositionsOfEveryLevelMatchClosedForm(string name)
    {
        var stack = Named(name);
        var layers = Build(stack);
        foreach (var (y, x) in Units(stack))
        {
            var trace = SamplingTrace.Follow(layers, y, x);
            var rows = ExpectedLevels(stack, y, s => s.OffsetY);
            var columns = ExpectedLevels(stack, x, s => s.OffsetX);
            var (start, jump) = ImageMap(stack);
            int top = stack.Steps.Length;
            Assert.AreEqual(start[top] + jump[top] * y, trace.UnitCenter.Y, PositionTolerance, $"{stack}, unit ({y}, {x}): centre y");
            Assert.AreEqual(start[top] + jump[top] * x, trace.UnitCenter.X, PositionTolerance, $"{stack}, unit ({y}, {x}): centre x");
            // A sample is followed when both its coordinates read something, so the positions of a
            // regular (or uniformly shifted) stack are a product of a row set and a column set.
            int levels = Enumerable.Range(0, rows.Count).TakeWhile(n => rows[n].Length > 0 && columns[n].Length > 0).Count();
            Assert.AreEqual(levels, trace.Levels.Count, $"{stack}, unit ({y}, {x}): levels");
            for (int n = 0; n < levels; n++)
            {
                var expected = rows[n].SelectMany(r => columns[n].Select(c => (r, c))).ToList();
                var actual = trace.Levels[n].Select(s => (s.ImageY, s.ImageX)).ToList();
                foreach (var position in actual)
                    Assert.IsTrue(expected.Any(e => Near(e, position)),
                        $"{stack}, unit ({y}, {x}), level {n}: {position} is not among the closed-form positions");
                foreach (var position in expected)
                    Assert.IsTrue(actual.Any(a => Near(a, position)),
                        $"{stack}, unit ({y}, {x}), level {n}: closed-form position {position} is missing");
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(RegularCases))]
    public void Follow_RegularStack_EachSampleLiesInTheReceptiveFieldOfItsParent(string name)
    {
        var stack = Named(name);
        var layers = Build(stack);
        var fields = new ReceptiveFields(stack);
        int checkedSamples = 0;
        foreach (var (y, x) in Units(stack))
        {
            var trace = SamplingTrace.Follow(layers, y, x);
            for (int n = 1; n < trace.Levels.Count; n++)
                foreach (var sample in trace.Levels[n])
                {
                    var parent = trace.Levels[n - 1][sample.Parent];
                    var parentField = fields.Of(parent);
                    Assert.IsNotNull(parentField, $"{stack}: a sample outside its layer's input was followed ({parent})");
                    if (fields.Of(sample) is not { } field) continue;
                    Assert.IsTrue(field.IsSubsetOf(parentField),
                        $"{stack}, unit ({y}, {x}), level {n}: the field of {sample} leaves the field of {parent}");
                    var (top, left, bottom, right) = Box(parentField);
                    Assert.IsTrue(sample.ImageY >= top && sample.ImageY <= bottom && sample.ImageX >= left && sample.ImageX <= right,
                        $"{stack}, unit ({y}, {x}), level {n}: drawn at ({sample.ImageY}, {sample.ImageX}), outside rows {top}…{bottom}, " +
                        $"columns {left}…{right} of its parent's field");
                    checkedSamples++;
                }
        }
        Assert.IsGreaterThan(0, checkedSamples, $"{stack}: no lower-layer sample was checked");
    }

    [TestMethod]
    [DynamicData(nameof(RegularCases))]
    public void Follow_RegularStack_ImagePositionIsTheCentreOfTheSamplesReceptiveField(string name)
    {
        var stack = Named(name);
        var layers = Build(stack);
        var fields = new ReceptiveFields(stack);
        var samples = Units(stack).SelectMany(u => SamplingTrace.Follow(layers, u.Y, u.X).Levels.SelectMany(l => l))
            .Select(s => (Sample: s, Field: fields.Of(s))).Where(s => s.Field is not null).ToList();
        // Padding (of the image or of a layer in between) cuts a field short; an uncut field has the
        // full extent of its layer's fields, and it is centred on the sample.
        var fullRows = samples.GroupBy(s => s.Sample.Layer).ToDictionary(g => g.Key, g => g.Max(s => Box(s.Field!).Bottom - Box(s.Field!).Top));
        var fullColumns = samples.GroupBy(s => s.Sample.Layer).ToDictionary(g => g.Key, g => g.Max(s => Box(s.Field!).Right - Box(s.Field!).Left));
        int checkedRows = 0, checkedColumns = 0;
        foreach (var (sample, field) in samples)
        {
            var (top, left, bottom, right) = Box(field!);
            if (bottom - top == fullRows[sample.Layer])
            {
                Assert.AreEqual((top + bottom) / 2.0, sample.ImageY, PositionTolerance, $"{stack}: {sample}, field rows {top}…{bottom}");
                checkedRows++;
            }
            if (right - left == fullColumns[sample.Layer])
            {
                Assert.AreEqual((left + right) / 2.0, sample.ImageX, PositionTolerance, $"{stack}: {sample}, field columns {left}…{right}");
                checkedColumns++;
            }
        }
        Assert.IsGreaterThan(samples.Count / 4, Math.Min(checkedRows, checkedColumns), $"{stack}: too few uncut fields were checked");
    }

    [TestMethod]
    public void Follow_DeformedFashionGeometry_PlacesTheIssuesExampleAsComputedByHand()
    {
        var stack = Regular.Single(s => s.Name.StartsWith("DeformedFashion", StringComparison.Ordinal));
        var trace = SamplingTrace.Follow(Build(stack), 2, 2);
        // conv3's unit 2 reads its input cells 1…3; a cell c of that 7×7 grid pools conv2's outputs
        // 2c, 2c + 1, i.e. image pixels 4c … 4c + 3, centred at 4c + 1.5.
        CollectionAssert.AreEquivalent(new[] { 5.5, 9.5, 13.5 }, trace.Levels[0].Select(s => s.ImageY).Distinct().ToArray());
        Assert.AreEqual((9.5, 9.5), trace.UnitCenter);
        // Cells 1…3 come from conv2's outputs 2…7, whose 3×3 windows read conv2's input cells 1…8; a
        // cell q of that 14×14 grid pools image pixels 2q, 2q + 1, centred at 2q + 0.5.
        CollectionAssert.AreEquivalent(new[] { 2.5, 4.5, 6.5, 8.5, 10.5, 12.5, 14.5, 16.5 },
            trace.Levels[1].Select(s => s.ImageX).Distinct().Order().ToArray());
        Assert.AreEqual(9 * 4 * 9, trace.Levels[1].Count, "9 samples, 4 pooled units each, 9 samples each");
    }

    [TestMethod]
    [DynamicData(nameof(AllCases))]
    public void UnitNearest_ImagePosition_IsTheTopUnitWithTheNearestCentre(string name)
    {
        var stack = Named(name);
        var layers = Build(stack);
        var (start, jump) = ImageMap(stack);
        int top = stack.Steps.Length, outSize = Sizes(stack)[top];
        // Positions a quarter of a jump off the centres (no ties), and beyond both ends (clamped).
        for (int u = -1; u <= outSize; u++)
        {
            double position = start[top] + jump[top] * (u + 0.25);
            int expected = Math.Clamp(u, 0, outSize - 1);
            Assert.AreEqual((expected, outSize - 1 - expected),
                SamplingTrace.UnitNearest(layers, position, start[top] + jump[top] * (outSize - 1 - u - 0.25)), $"{stack}, u = {u}");
        }
    }

    [TestMethod]
    public void Follow_BadArguments_ThrowNamingThem()
    {
        var layers = Build(Regular[0]);
        var outside = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SamplingTrace.Follow(layers, 12, 0));
        StringAssert.Contains(outside.Message, "inside 12×12, got (12, 0)");
        var mismatched = new List<SamplingLayer> { layers[0], SamplingLayer.Pooling(12, 12, 2, 2), layers[1] };
        var error = Assert.ThrowsExactly<ArgumentException>(() => SamplingTrace.Follow(mismatched, 0, 0));
        Assert.AreEqual("layers", error.ParamName);
        StringAssert.Contains(error.Message, "layer 2 reads 12×12, but layer 1 below it writes 6×6");
        Assert.AreEqual("layers", Assert.ThrowsExactly<ArgumentException>(() => SamplingTrace.UnitNearest([], 0, 0)).ParamName);
        Assert.AreEqual("layer", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SamplingTrace.ToImage(layers, 3, 0, 0)).ParamName);
    }

    [TestMethod]
    public void Window_BadArguments_ThrowNamingThem()
    {
        Assert.AreEqual("kernel", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SamplingLayer.Window(8, 8, (0, 3), (1, 1))).ParamName);
        Assert.AreEqual("stride", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SamplingLayer.Window(8, 8, (3, 3), (1, 0))).ParamName);
        Assert.AreEqual("padding", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SamplingLayer.Window(8, 8, (3, 3), (1, 1), (-1, 0))).ParamName);
        Assert.AreEqual("dilation", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SamplingLayer.Window(8, 8, (3, 3), (1, 1), dilation: (1, 0))).ParamName);
        var small = Assert.ThrowsExactly<ArgumentException>(() => SamplingLayer.Window(4, 8, (3, 3), (1, 1), dilation: (2, 1)));
        Assert.AreEqual("inputHeight", small.ParamName);
        StringAssert.Contains(small.Message, "got 4×8");
        Assert.AreEqual(8, SamplingLayer.Window(4, 8, (3, 3), (1, 1), (1, 1), (2, 1)).Geometry.Conv.Width, "padding makes room");
    }

    /// <summary>The corners and the middle of the top layer's output.</summary>
    private static List<(int Y, int X)> Units(Stack stack)
    {
        int last = Sizes(stack)[^1] - 1;
        return new List<(int, int)> { (0, 0), (last / 2, (last + 1) / 2), (last, last), (0, last) }.Distinct().ToList();
    }

    /// <summary>Image coordinate of position q in layer l's input = start[l] + jump[l]·q: the
    /// receptive-field recurrence run from the image up (jump·stride, start moved to the centre of
    /// the first window, (k − 1)·d/2 − pad input steps in).</summary>
    private static (double[] Start, double[] Jump) ImageMap(Stack stack)
    {
        int n = stack.Steps.Length;
        var start = new double[n + 1];
        var jump = new double[n + 1];
        jump[0] = 1;
        for (int l = 0; l < n; l++)
        {
            var s = stack.Steps[l];
            jump[l + 1] = jump[l] * s.Stride;
            start[l + 1] = start[l] + jump[l] * ((s.Kernel - 1) * s.Dilation / 2.0 - s.Padding);
        }
        return (start, jump);
    }

    /// <summary>Along one axis, the image coordinates each DCN samples for top unit u, top DCN first:
    /// a DCN's unit v samples v·s − p + i·d + Δ; a sample inside (−1, size) leads to the unit it
    /// rounds to (halves away from zero); a pool's unit leads to every cell v·s + a of its window
    /// inside the input, a plain conv's unit to its window's central cell v·s − p + ⌊(k − 1)/2⌋·d.</summary>
    private static List<double[]> ExpectedLevels(Stack stack, int u, Func<Step, double> offset)
    {
        var sizes = Sizes(stack);
        var (start, jump) = ImageMap(stack);
        var levels = new List<double[]>();
        var units = new List<int> { u };
        for (int l = stack.Steps.Length - 1; l >= 0; l--)
        {
            var s = stack.Steps[l];
            int size = sizes[l];
            switch (s.Kind)
            {
                case Kind.Pool:
                    units = units.SelectMany(v => Enumerable.Range(0, s.Kernel).Select(a => v * s.Stride + a)).Where(c => c >= 0 && c < size).Distinct().ToList();
                    break;
                case Kind.Conv:
                    units = units.Select(v => Math.Clamp(v * s.Stride - s.Padding + (s.Kernel - 1) / 2 * s.Dilation, 0, size - 1)).Distinct().ToList();
                    break;
                default:
                    var positions = units.SelectMany(v => Enumerable.Range(0, s.Kernel).Select(i => v * s.Stride - s.Padding + i * s.Dilation + offset(s)))
                        .Distinct().ToList();
                    levels.Add(positions.Select(q => start[l] + jump[l] * q).ToArray());
                    units = positions.Where(q => q > -1 && q < size)
                        .Select(q => Math.Clamp((int)Math.Round(q, MidpointRounding.AwayFromZero), 0, size - 1)).Distinct().ToList();
                    break;
            }
        }
        return levels;
    }

    private static bool Near((double Y, double X) a, (double Y, double X) b) =>
        Math.Abs(a.Y - b.Y) <= PositionTolerance && Math.Abs(a.X - b.X) <= PositionTolerance;

    private static (int Top, int Left, int Bottom, int Right) Box(HashSet<(int Y, int X)> field) =>
        (field.Min(p => p.Y), field.Min(p => p.X), field.Max(p => p.Y), field.Max(p => p.X));

    /// <summary>The image pixels a sample's value depends on, found by the engine's backward through
    /// the stack with positive weights (<see cref="SamplingStacks.Forward"/>): independent of the
    /// geometry code under test.</summary>
    private sealed class ReceptiveFields(Stack stack)
    {
        private readonly Dictionary<(int, int, int), HashSet<(int, int)>?> _cache = [];
        private readonly int[] _sizes = Sizes(stack);

        /// <summary>Null for a sample in the padding (it reads nothing).</summary>
        public HashSet<(int Y, int X)>? Of(TracedSample sample)
        {
            int qy = (int)Math.Round(sample.Y), qx = (int)Math.Round(sample.X);
            Assert.AreEqual(qy, sample.Y, PositionTolerance, "regular samples sit on cells");
            Assert.AreEqual(qx, sample.X, PositionTolerance, "regular samples sit on cells");
            var key = (sample.Layer, qy, qx);
            if (_cache.TryGetValue(key, out var cached)) return cached;
            int size = _sizes[sample.Layer];
            HashSet<(int, int)>? field = null;
            if (qy < 0 || qy >= size || qx < 0 || qx >= size) field = null;
            else if (sample.Layer == 0) field = [(qy, qx)];
            else
            {
                var image = Tensor<double>.Zeros(1, 1, stack.Size, stack.Size);
                image.RequiresGrad = true;
                var output = SamplingStacks.Forward(stack, image, sample.Layer);
                var grad = Tensor<double>.Zeros(output.Shape);
                grad[0, 0, qy, qx] = 1;
                output.Backward(grad);
                var g = image.Grad!.ToArray();
                field = [];
                for (int p = 0; p < g.Length; p++)
                    if (g[p] != 0) field.Add((p / stack.Size, p % stack.Size));
            }
            _cache[key] = field;
            return field;
        }
    }
}
