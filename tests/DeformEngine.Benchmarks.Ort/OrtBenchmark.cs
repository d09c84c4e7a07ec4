using System.Diagnostics;
using System.Text.Json;
using DeformEngine.IO;
using Microsoft.ML.OnnxRuntime;

namespace DeformEngine.Benchmarks;

/// <summary><c>ort --models DIR [--pairs P] [--threads T] [--shapes all|1,2,…] [--json PATH]</c>: float32
/// DeformConv2d forward (3×3, padding 1, mask and bias) in the engine and in ONNX Runtime's CPU
/// DeformConv (opset 19, the one-node models of tests/Benchmarks/make_onnx_deformconv.py, weight and
/// bias as initializers) in this process, on the same inputs, both on T threads (ONNX Runtime:
/// intra-op threads T, sequential execution; on one thread both run on the calling thread, timed in
/// its CPU time, see <see cref="Timing.Once"/>). After warm-up (each side until the JIT has settled, see <see cref="WarmUp"/>), P interleaved pairs
/// (the side that runs first alternates). Before each run the process must be idle: ONNX Runtime's
/// intra-op workers keep spinning for 40–50 ms after a run (measured here: the process used 19 ms of
/// CPU during a 20 ms sleep after an ORT run, none after an engine run), so a fixed 20 ms pause let
/// them take one of the two cores from the engine's next turn, which then ran up to 2× slower. Each
/// run waits until the process has used no CPU over 10 ms (<see cref="Timing.WaitUntilIdle"/>), then pauses
/// <see cref="Pause"/>, so both sides start from parked workers. Reported: each side's fastest and median time,
/// ORT / engine (above 1: the engine is faster) from the medians and the fastest runs, the median of
/// the pairs' ratios, and max |engine − ORT| / max |ORT| over the output.
/// <para>With <c>--gap-ms G</c> each turn is instead a stream: from an idle process, one untimed call, then
/// <see cref="StreamCalls"/> calls each G ms after the previous one returned (a model whose other work between
/// two such layers takes G ms), and each side's times are those of the stream's calls. There neither side's
/// workers have parked between calls (both keep looking for work for tens of ms), which is how a caller that
/// runs layer after layer meets them. <c>--spin-ms S</c> sets the engine's <see cref="EngineOptions.WorkerSpinTime"/>.</para></summary>
public static class OrtBenchmark
{
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(20);

    /// <summary>Timed calls per turn with --gap-ms.</summary>
    private const int StreamCalls = 4;

    public static int Run(string[] args)
    {
        string? models = null, json = null, shapes = "all";
        int pairs = 15, threads = 2;
        double gapMs = -1;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--models": models = args[i + 1]; break;
                case "--pairs": pairs = int.Parse(args[i + 1]); break;
                case "--threads": threads = int.Parse(args[i + 1]); break;
                case "--shapes": shapes = args[i + 1]; break;
                case "--json": json = args[i + 1]; break;
                case "--gap-ms": gapMs = double.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture); break;
                case "--spin-ms":
                    EngineOptions.WorkerSpinTime = TimeSpan.FromMilliseconds(double.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture));
                    break;
                default: throw new ArgumentException($"unknown option {args[i]}; options: --models DIR --pairs P --threads T --shapes all|1,2,… --gap-ms G --spin-ms S --json PATH");
            }
        }
        if (models is null || !Directory.Exists(models))
            throw new ArgumentException("--models DIR: the directory tests/Benchmarks/make_onnx_deformconv.py --out DIR wrote");
        EngineOptions.Threads = threads;
        Console.WriteLine(IsaReport.Describe());
        Console.WriteLine($"ONNX Runtime {OrtEnv.Instance().GetVersionString()}, intra-op threads {threads}, sequential; engine threads {threads}, " +
                          $"worker spin {EngineOptions.WorkerSpinTime.TotalMilliseconds} ms; " +
                          $"{pairs} interleaved pairs, {Timing.ClockName(threads)}; forward, float32, 3x3 pad 1, mask and bias" +
                          (gapMs >= 0 ? $"; each turn a stream of {StreamCalls} calls {gapMs} ms apart" : "; each run from an idle process"));
        Console.WriteLine("warm-up: each side until the JIT has settled (Timing.SettleJit, at least 70 calls); jit: methods compiled during the timed pairs");
        Console.WriteLine($"{"shape",-22}{"ORT min",9}{"med",8}{"engine min",12}{"med",8}{"ORT/engine med",16}{"min",6}{"pairs",7}{"max rel err",13}{"jit",5}");
        var results = new List<object>();
        foreach (var shape in BenchShapes.Parse(shapes))
        {
            var r = Measure(shape, models, threads, pairs, gapMs);
            results.Add(new
            {
                name = shape.Name, ort_min_ms = r.OrtMin, ort_median_ms = r.OrtMedian, engine_min_ms = r.EngineMin,
                engine_median_ms = r.EngineMedian, ratio_median = r.OrtMedian / r.EngineMedian, ratio_min = r.OrtMin / r.EngineMin,
                median_pair_ratio = r.PairRatio, max_relative_error = r.Error, methods_jitted_during_pairs = r.Jitted,
            });
            Console.WriteLine($"{shape.Name,-22}{r.OrtMin,9:F2}{r.OrtMedian,8:F2}{r.EngineMin,12:F2}{r.EngineMedian,8:F2}" +
                              $"{r.OrtMedian / r.EngineMedian,16:F2}{r.OrtMin / r.EngineMin,6:F2}{r.PairRatio,7:F2}{r.Error,13:E1}{r.Jitted,5}");
        }
        if (json is not null)
            File.WriteAllText(json, JsonSerializer.Serialize(new
            {
                isa = IsaReport.Isa, ort = OrtEnv.Instance().GetVersionString(), threads, pairs, gap_ms = gapMs, results,
            }, new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return 0;
    }

    private readonly record struct Result(double OrtMin, double OrtMedian, double EngineMin, double EngineMedian, double PairRatio, double Error, long Jitted);

    private static Result Measure(BenchShape shape, string models, int threads, int pairs, double gapMs)
    {
        string baseName = Path.Combine(models, $"deformconv_N{shape.N}_C{shape.C}_O{shape.O}_H{shape.H}");
        var weight = Npy.Load<float>(baseName + ".weight.npy");
        var bias = Npy.Load<float>(baseName + ".bias.npy");
        var input = Tensor<float>.Randn(1, shape.N, shape.C, shape.H, shape.W);
        var offset = Tensor<float>.Randn(2, shape.N, 18, shape.H, shape.W).MulScalar(2f);
        var mask = Tensor<float>.Rand(3, shape.N, 9, shape.H, shape.W);

        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        using var session = new InferenceSession(baseName + ".onnx", options);
        using var runOptions = new RunOptions();
        float[] x = input.ToArray(), off = offset.ToArray(), msk = mask.ToArray();
        float[] y = new float[shape.N * shape.O * shape.H * shape.W];
        using var xValue = OrtValue.CreateTensorValueFromMemory(x, [shape.N, shape.C, shape.H, shape.W]);
        using var offsetValue = OrtValue.CreateTensorValueFromMemory(off, [shape.N, 18, shape.H, shape.W]);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(msk, [shape.N, 9, shape.H, shape.W]);
        using var yValue = OrtValue.CreateTensorValueFromMemory(y, [shape.N, shape.O, shape.H, shape.W]);
        string[] inputNames = ["X", "offset", "mask"], outputNames = ["Y"];
        OrtValue[] inputs = [xValue, offsetValue, maskValue], outputs = [yValue];
        void Ort() => session.Run(runOptions, inputNames, inputs, outputNames, outputs);

        Tensor<float>? engineOutput = null;
        void Engine()
        {
            using (Autograd.NoGrad())
                engineOutput = Functional.DeformConv2d(input, offset, weight, bias, padding: (1, 1), mask: mask);
        }

        WarmUp(Ort);
        WarmUp(Engine);
        // Sized up front: growing a list inside the pairs would compile its growth there.
        var ort = new List<double>(pairs * StreamCalls);
        var engine = new List<double>(pairs * StreamCalls);
        void Turn(Action action, List<double> times)
        {
            if (gapMs < 0)
            {
                times.Add(TimeMs(action, threads));
                return;
            }
            Timing.WaitUntilIdle();
            action();
            for (int call = 0; call < StreamCalls; call++)
            {
                long gap = Stopwatch.GetTimestamp();
                while (Stopwatch.GetElapsedTime(gap).TotalMilliseconds < gapMs)
                    Thread.Sleep(0);
                times.Add(Timing.Once(action, threads) * 1e3);
            }
        }
        // One untimed turn each first: the timing path's own first calls compile it.
        Turn(Ort, []);
        Turn(Engine, []);
        long jitBefore = Timing.CompiledMethods;
        for (int pair = 0; pair < pairs; pair++)
        {
            if (pair % 2 == 0)
            {
                Turn(Ort, ort);
                Turn(Engine, engine);
            }
            else
            {
                Turn(Engine, engine);
                Turn(Ort, ort);
            }
        }
        // Read before the statistics below, whose own first calls compile methods too.
        long jitted = Timing.CompiledMethods - jitBefore;
        var ratios = ort.Zip(engine, (o, e) => o / e).ToList();
        return new Result(Samples.Min(ort), Samples.Median(ort), Samples.Min(engine), Samples.Median(engine),
            Samples.Median(ratios), RelativeError(engineOutput!.AsSpan(), y), jitted);
    }

    /// <summary>Until the JIT has settled (<see cref="Timing.SettleJit"/>): both sides have managed per-call code (ONNX
    /// Runtime its .NET binding), which tiered compilation recompiles after 30 and again after 60 calls.</summary>
    private static void WarmUp(Action action) => Timing.SettleJit(action, calls: 70);

    private static double TimeMs(Action action, int threads)
    {
        Timing.WaitUntilIdle();
        Thread.Sleep(Pause);
        return Timing.Once(action, threads) * 1e3;
    }

    /// <summary>max |ours − theirs| / max |theirs|.</summary>
    private static double RelativeError(ReadOnlySpan<float> ours, ReadOnlySpan<float> theirs)
    {
        double scale = 0, error = 0;
        for (int i = 0; i < theirs.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(theirs[i]));
            error = Math.Max(error, Math.Abs(ours[i] - theirs[i]));
        }
        return scale == 0 ? error : error / scale;
    }
}
