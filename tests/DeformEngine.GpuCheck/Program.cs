using System.Diagnostics;
using DeformEngine.Gpu;
using DeformEngine.GpuCheck;

// The GPU check: every operator on a device against the CPU backend, then DeformConv2d's speed.
// Usage: DeformEngine.GpuCheck [--device cuda|cpu-accelerator] [--out DIR] [--shapes full|tiny] [--reps N]
// Writes DIR/engine-checks.md (tables) and DIR/engine-bench.json; exit code 1 when a check fails.
var options = CheckOptions.Parse(args);
Directory.CreateDirectory(options.Out);
var clock = Stopwatch.StartNew();
var report = new Report();
GpuDevice device;
try
{
    device = options.Device == "cuda" ? CudaDevice.Open() : CpuAcceleratorDevice.Open(groupSize: 4);
}
catch (NotSupportedException e)
{
    Console.Error.WriteLine($"No device: {e.Message}");
    File.WriteAllText(Path.Combine(options.Out, "engine-checks.md"), $"# GPU check\n\nNo device: {e.Message}\n");
    return 2;
}
using (device)
{
    report.Line($"# GPU check: {device.Name}");
    report.Line();
    report.Line($"- back end {device.Backend}, {device.MemoryBytes / (1 << 20)} MiB, groups of {device.GroupSize} threads, "
        + $"float64 {(device.SupportsDouble ? "yes" : "no")}, deterministic mode {(device.SupportsDeterministic ? "yes" : "no")}");
    report.Line($"- matrix products: {device.GemmDescription}"
        + (device is CudaDevice { CuBlasFailure: { } failure } ? $" (cuBLAS unavailable: {failure})" : ""));
    report.Line($"- {Environment.Version} runtime, ILGPU {typeof(ILGPU.Context).Assembly.GetName().Version}");
    report.Line();

    var checks = new OperatorChecks(device, report);
    checks.RunAll($"GEMM: {device.GemmDescription}");
    if (device.GemmKernel != GpuGemm.TiledKernel)
    {
        device.GemmKernel = GpuGemm.TiledKernel;
        checks.RunProducts($"GEMM: {device.GemmDescription}");
        device.GemmKernel = GpuGemm.CuBlas;
    }
    checks.RunDeterministic();
    checks.ReportKernelCoverage();
    report.Line($"Checks took {clock.Elapsed.TotalSeconds:F1} s.");
    report.Line();

    var benchmark = new DeformBenchmark(device, options);
    benchmark.Run(report);
    File.WriteAllText(Path.Combine(options.Out, "engine-bench.json"), benchmark.Json());
    report.Line($"Total {clock.Elapsed.TotalSeconds:F1} s.");
    File.WriteAllText(Path.Combine(options.Out, "engine-checks.md"), report.Text);
    Console.WriteLine(report.Text);
    Console.WriteLine(checks.Failures == 0 ? "ALL CHECKS PASSED" : $"{checks.Failures} CHECKS FAILED");
    return checks.Failures == 0 ? 0 : 1;
}
