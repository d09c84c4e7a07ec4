using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Runtime.CompilerServices;

namespace DeformEngine.Benchmarks;

/// <summary><c>DeformEngine.FirstCall [--shape K] [--threads T] [--prepare]</c>: in this (fresh) process,
/// the time of the first DeformConv2d forward (float32, 3×3, padding 1, mask and bias; default shape 5,
/// N1 C256 28×28), of the second, and the steady time (median of 20 after two seconds of calls), each
/// also in the process's CPU time (all threads), which other processes on a shared machine disturb less,
/// plus the JIT's compilation time and method count during the first call. With --prepare,
/// <see cref="CpuFastBackend.Prepare{T}"/> runs (and is timed) before the first call. The first call pays
/// for JIT compilation (tier 0, then the optimised tiers), the thread pool's start and the first touch
/// of the scratch buffers and of the weight's packed copy; tests/Benchmarks/first_call.sh runs this in
/// fresh processes under each runtime setting and publish mode. Prints one JSON object.</summary>
public static class FirstCallBenchmark
{
    public static int Main(string[] args)
    {
        int shapeIndex = 5, threads = 2;
        bool prepare = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--shape": shapeIndex = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--prepare": prepare = true; break;
                default: throw new ArgumentException($"unknown option {args[i]}; options: --shape K --threads T --prepare");
            }
        }
        var shape = BenchShapes.Parse(shapeIndex.ToString(CultureInfo.InvariantCulture))[0];
        EngineOptions.Threads = threads;
        // The inputs are built before the clock starts: creating them is not the operator's first call.
        var inputs = BenchInputs<float>.For(shape);
        using var noGrad = Autograd.NoGrad();
        void Forward() => inputs.Forward();

        double prepareMs = prepare ? Ms(CpuFastBackend.Prepare<float>) : 0;
        double cpuBefore = CpuClock.Process();
        var jitBefore = JitInfo.GetCompilationTime();
        long methodsBefore = JitInfo.GetCompiledMethodCount();
        double first = Ms(Forward);
        double firstCpu = (CpuClock.Process() - cpuBefore) * 1e3;
        double firstJit = (JitInfo.GetCompilationTime() - jitBefore).TotalMilliseconds;
        long firstMethods = JitInfo.GetCompiledMethodCount() - methodsBefore;
        double second = Ms(Forward);
        long warm = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(warm).TotalSeconds < 2)
            Forward();
        var steady = Enumerable.Range(0, 20).Select(_ => Ms(Forward)).ToList();
        var steadyCpu = Enumerable.Range(0, 20).Select(_ =>
        {
            double cpu = CpuClock.Process();
            Forward();
            return (CpuClock.Process() - cpu) * 1e3;
        }).ToList();
        double steadyMedian = Samples.Median(steady), steadyCpuMedian = Samples.Median(steadyCpu);
        var fields = new (string Name, object Value)[]
        {
            ("shape", shape.Name), ("threads", threads), ("isa", IsaReport.Isa), ("mode", Mode()), ("prepare", prepare),
            ("prepare_ms", prepareMs), ("first_ms", first), ("first_cpu_ms", firstCpu), ("first_jit_ms", firstJit),
            ("first_jit_methods", firstMethods), ("second_ms", second), ("steady_ms", steadyMedian),
            ("steady_min_ms", Samples.Min(steady)), ("steady_cpu_ms", steadyCpuMedian),
            ("first_over_steady", first / steadyMedian), ("first_over_steady_cpu", firstCpu / steadyCpuMedian),
        };
        Console.WriteLine("{" + string.Join(", ", fields.Select(f => $"\"{f.Name}\": {Json(f.Value)}")) + "}");
        return 0;
    }

    private static string Json(object value) => value switch
    {
        string text => "\"" + text.Replace("\"", "\\\"") + "\"",
        bool flag => flag ? "true" : "false",
        double number => number.ToString("G6", CultureInfo.InvariantCulture),
        IFormattable other => other.ToString(null, CultureInfo.InvariantCulture),
        _ => "null",
    };

    private static double Ms(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    /// <summary>How this process runs managed code: compiled ahead of time (NativeAOT), with ReadyToRun
    /// code in the engine's assemblies, or by the JIT alone.</summary>
    private static string Mode()
    {
        if (!RuntimeFeature.IsDynamicCodeSupported)
            return "nativeaot";
        string location = Path.Combine(AppContext.BaseDirectory, "DeformEngine.Core.dll");
        if (!File.Exists(location))
            return "jit";
        using var stream = File.OpenRead(location);
        using var reader = new System.Reflection.PortableExecutable.PEReader(stream);
        return reader.PEHeaders.CorHeader?.ManagedNativeHeaderDirectory.Size > 0 ? "readytorun" : "jit";
    }
}
