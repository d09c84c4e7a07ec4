using DeformEngine.Examples.DeformableRoIPooling;

namespace DeformEngine.Tests.Detection;

[TestClass]
public class SceneGeneratorTests
{
    [TestMethod]
    public void Draw_IdentityPlacement_CopiesTheItemAndBoxesItsInk()
    {
        // Ink at item rows 10..17 and columns 8..19 (inclusive), value 0.8.
        var item = new float[ItemSet.ItemSize];
        for (int r = 10; r <= 17; r++)
            for (int c = 8; c <= 19; c++)
                item[r * ItemSet.Side + c] = 0.8f;
        var layer = new float[96 * 96];
        // Identity at centre (48, 40): item pixel (r, c) lands on canvas pixel (r + 40 − 14, c + 48 − 14).
        var box = SceneGenerator.Draw(item, ItemPlacement.At(48, 40), layer, 96);
        Assert.AreEqual(new Box(8 + 34, 10 + 26, 19 + 34 + 1, 17 + 26 + 1), box);
        for (int r = 0; r < 96; r++)
            for (int c = 0; c < 96; c++)
            {
                bool inked = r >= 36 && r <= 43 && c >= 42 && c <= 53;
                Assert.AreEqual(inked ? 0.8f : 0f, layer[r * 96 + c], $"pixel ({r}, {c})");
            }
    }

    [TestMethod]
    public void Draw_NoInkAboveThreshold_ReturnsNull()
    {
        var faint = Enumerable.Repeat(SceneGenerator.InkThreshold / 2, ItemSet.ItemSize).ToArray();
        Assert.IsNull(SceneGenerator.Draw(faint, ItemPlacement.At(48, 48), new float[96 * 96], 96));
    }

    [TestMethod]
    public void Draw_WrongSizes_ThrowNamingTheArgument()
    {
        Assert.AreEqual("item", Assert.ThrowsExactly<ArgumentException>(
            () => SceneGenerator.Draw(new float[10], ItemPlacement.At(1, 1), new float[4], 2)).ParamName);
        Assert.AreEqual("layer", Assert.ThrowsExactly<ArgumentException>(
            () => SceneGenerator.Draw(new float[ItemSet.ItemSize], ItemPlacement.At(1, 1), new float[5], 2)).ParamName);
    }

    [TestMethod]
    public void Generate_Scenes_OneToThreeTightBoxesWithinOverlapLimit()
    {
        var options = new SceneOptions(Noise: 0);
        var items = SyntheticItems.Generate(50, new SeededRandom(4));
        var scenes = SceneGenerator.Generate(items, 40, new SeededRandom(5), options);
        Assert.HasCount(40, scenes);
        foreach (var scene in scenes)
        {
            Assert.IsTrue(scene.Objects.Count is >= 1 and <= 3, $"{scene.Objects.Count} objects");
            for (int a = 0; a < scene.Objects.Count; a++)
            {
                var box = scene.Objects[a].Box;
                Assert.IsTrue(box.X1 >= 0 && box.Y1 >= 0 && box.X2 <= 96 && box.Y2 <= 96, $"box {box} on the canvas");
                Assert.IsTrue(scene.Objects[a].Label >= 0 && scene.Objects[a].Label < items.ClassNames.Length);
                // Tight: each edge row and column of the box holds ink (max-composition keeps it).
                Assert.IsTrue(HasInk(scene, (int)box.Y1, (int)box.X1, (int)box.X2, row: true), $"top edge of {box}");
                Assert.IsTrue(HasInk(scene, (int)box.Y2 - 1, (int)box.X1, (int)box.X2, row: true), $"bottom edge of {box}");
                Assert.IsTrue(HasInk(scene, (int)box.X1, (int)box.Y1, (int)box.Y2, row: false), $"left edge of {box}");
                Assert.IsTrue(HasInk(scene, (int)box.X2 - 1, (int)box.Y1, (int)box.Y2, row: false), $"right edge of {box}");
                for (int b = a + 1; b < scene.Objects.Count; b++)
                    Assert.IsLessThanOrEqualTo(options.MaxOverlapIoU, box.IoU(scene.Objects[b].Box));
            }
        }
        Assert.IsTrue(scenes.Any(s => s.Objects.Count == 3) && scenes.Any(s => s.Objects.Count == 1), "every count occurs");
    }

    [TestMethod]
    public void Generate_SameSeed_SameScenes()
    {
        var items = SyntheticItems.Generate(20, new SeededRandom(1));
        var a = SceneGenerator.Generate(items, 5, new SeededRandom(9));
        var b = SceneGenerator.Generate(items, 5, new SeededRandom(9));
        for (int i = 0; i < 5; i++)
        {
            CollectionAssert.AreEqual(a[i].Pixels, b[i].Pixels);
            CollectionAssert.AreEqual(a[i].Objects.ToList(), b[i].Objects.ToList());
        }
    }

    [TestMethod]
    public void Generate_BadObjectCounts_ThrowNamingOptions()
    {
        var items = SyntheticItems.Generate(5, new SeededRandom(1));
        Assert.AreEqual("options", Assert.ThrowsExactly<ArgumentException>(
            () => SceneGenerator.Generate(items, 1, new SeededRandom(1), new SceneOptions(MinObjects: 2, MaxObjects: 1))).ParamName);
    }

    private static bool HasInk(Scene scene, int line, int from, int to, bool row)
    {
        for (int i = from; i < to; i++)
            if (scene.Pixels[row ? line * scene.Size + i : i * scene.Size + line] > SceneGenerator.InkThreshold) return true;
        return false;
    }
}
