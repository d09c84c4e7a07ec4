using DeformEngine.Cpu;

namespace DeformEngine.Tests.Core;

[TestClass]
public class GemmBlockingTests
{
    [TestMethod]
    [DataRow("48K", 48 << 10)]
    [DataRow("2048K", 2 << 20)]
    [DataRow("1M", 1 << 20)]
    [DataRow(" 32K\n", 32 << 10)]
    [DataRow("512", 512)]
    public void ParseSize_SysfsText_Bytes(string text, int expected) =>
        Assert.AreEqual(expected, CacheSizes.ParseSize(text));

    [TestMethod]
    [DataRow("")]
    [DataRow("K")]
    [DataRow("12Q")]
    [DataRow("-4K")]
    public void ParseSize_NotASize_Null(string text) =>
        Assert.IsNull(CacheSizes.ParseSize(text));

    [TestMethod]
    public void For_AvxMachineCaches_DeepStepsAndSlicesInL2()
    {
        // 48 KiB L1d, 2 MiB L2: a third of L1 holds an 8-row float A panel 512 deep (16 KiB) and a
        // 256-deep double one; half of L2 holds kc × slice of B.
        var single = GemmBlocking.For<float, GemmKernel512<float>>(48 << 10, 2 << 20);
        Assert.AreEqual(512, single.Kc);
        Assert.AreEqual(480, single.SliceColumns);
        var dual = GemmBlocking.For<double, GemmKernel512<double>>(48 << 10, 2 << 20);
        Assert.AreEqual(256, dual.Kc);
        Assert.AreEqual(504, dual.SliceColumns);
    }

    [TestMethod]
    public void For_TinyCaches_ClampedToUsableBlocks()
    {
        var blocking = GemmBlocking.For<double, GemmKernel256<double>>(4 << 10, 16 << 10);
        Assert.AreEqual(128, blocking.Kc);
        Assert.AreEqual(GemmKernel256<double>.Columns, blocking.SliceColumns);
    }

    [TestMethod]
    [DataRow(512, 1000, 500)]
    [DataRow(512, 512, 512)]
    [DataRow(512, 513, 257)]
    [DataRow(384, 4608, 384)]
    public void DepthStep_KAboveKc_EqualSteps(int kc, int k, int expected) =>
        Assert.AreEqual(expected, new GemmBlocking(kc, 48).DepthStep(k));

    [TestMethod]
    [DataRow(392, 512, 4)] // 8 panels and 8 columns: 4 + 4 panels, each with half of the 8 columns' rows
    [DataRow(576, 512, 6)] // 12 panels: 6 + 6
    [DataRow(1024, 1024, 10)] // 21 panels and 16 columns: 10 + 10 + 2, the last split by rows
    [DataRow(2304, 256, 8)] // 48 panels: six even slices, not four and a fifth split by rows, which repacks 384 columns
    [DataRow(3136, 64, 8)] // 66 panels: with 64 rows a split seventh would cost more to repack than the imbalance it removes
    public void PanelsPerTask_TwoThreads_BalancedTasks(int n, int rows, int expected) =>
        Assert.AreEqual(expected, GemmPartition.PanelsPerTask(n, panelWidth: 48, maxPanels: 10, threads: 2, rows));

    [TestMethod]
    public void SplitsLastSlice_PartialPanelOrUnevenSlices_OnlyWithThreadsToShare()
    {
        Assert.IsFalse(GemmPartition.SplitsLastSlice(392, 48, perTask: 4, threads: 2)); // 4 + 4 panels share the 8 columns
        Assert.IsTrue(GemmPartition.SplitsLastSlice(392, 48, perTask: 4, threads: 3)); // 4 + 4 + 8 columns on three threads
        Assert.IsTrue(GemmPartition.SplitsLastSlice(1024, 48, perTask: 10, threads: 2)); // 10 + 10 + 2 panels
        Assert.IsFalse(GemmPartition.SplitsLastSlice(576, 48, perTask: 6, threads: 2)); // 6 + 6
        Assert.IsFalse(GemmPartition.SplitsLastSlice(1024, 48, perTask: 10, threads: 1));
        Assert.IsFalse(GemmPartition.SplitsLastSlice(392, 48, perTask: 9, threads: 2)); // one slice: rows split anyway
        Assert.IsFalse(GemmPartition.SplitsLastSlice(1024, 48, perTask: 10, threads: 4)); // fewer slices than threads
    }

    [TestMethod]
    public void SharesNarrowTail_OnlyAPartialPanelLeftAndFullSlicesEven()
    {
        Assert.IsTrue(GemmPartition.SharesNarrowTail(392, 48, perTask: 4, threads: 2)); // 4 + 4 panels, then 8 columns
        Assert.IsFalse(GemmPartition.SharesNarrowTail(392, 48, perTask: 4, threads: 3)); // two full slices, three threads
        Assert.IsFalse(GemmPartition.SharesNarrowTail(392, 48, perTask: 3, threads: 2)); // the last slice has full panels
        Assert.IsFalse(GemmPartition.SharesNarrowTail(392, 48, perTask: 4, threads: 1));
        Assert.IsFalse(GemmPartition.SharesNarrowTail(576, 48, perTask: 6, threads: 2)); // no partial panel
        // 392 columns, tasks of 4 panels sharing the 8 columns: 192 + 4 + 16 on each thread.
        Assert.AreEqual(212, GemmPartition.Makespan(392, 48, perTask: 4, threads: 2, rows: 512));
    }

    [TestMethod]
    public void PanelsPerTask_OneThread_FewestEqualSlicesL2Allows()
    {
        Assert.AreEqual(10, GemmPartition.PanelsPerTask(4608, panelWidth: 48, maxPanels: 10, threads: 1, rows: 512));
        Assert.AreEqual(3, GemmPartition.PanelsPerTask(100, panelWidth: 48, maxPanels: 10, threads: 1, rows: 512));
        // 36 panels, at most 32 a slice: 18 + 18, not 32 + 4; 11 panels, at most 10: 6 + 5.
        Assert.AreEqual(18, GemmPartition.PanelsPerTask(576, panelWidth: 16, maxPanels: 32, threads: 1, rows: 64));
        Assert.AreEqual(6, GemmPartition.PanelsPerTask(528, panelWidth: 48, maxPanels: 10, threads: 1, rows: 64));
    }

    [TestMethod]
    public void Makespan_TasksInOrderToFreeThread_Columns()
    {
        // 392 columns in tasks of 5 panels: 240 + 16 on one thread, 152 + 16 on the other.
        Assert.AreEqual(256, GemmPartition.Makespan(392, 48, perTask: 5, threads: 2, rows: 512));
        Assert.AreEqual(392 + GemmPartition.TaskOverheadColumns, GemmPartition.Makespan(392, 48, perTask: 9, threads: 2, rows: 512));
        // 1024 columns in tasks of 10 panels: 480 + 16 each, then the last 64 in two row parts of 32 + 16 + 64·30/1024.
        Assert.AreEqual(496 + 32 + 16 + 1, GemmPartition.Makespan(1024, 48, perTask: 10, threads: 2, rows: 1024));
    }
}
