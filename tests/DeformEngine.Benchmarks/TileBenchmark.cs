using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using DeformEngine.Cpu;
using DeformEngine.Kernels;

namespace DeformEngine.Benchmarks;

/// <summary><c>tiles [--shapes all|1,2,…] [--custom NxCxH,…] [--threads T] [--pairs P] [--double]</c>: the
/// DeformConv2d forward (no autograd; 3×3, padding 1, mask and bias, C → C channels) in each tile size it could
/// take against the one <see cref="DeformConv2dWorkspace.ForwardTileRows"/> picks, and untiled, all in one
/// process, interleaved (P rounds of one call per candidate, wall-clock). The candidates are the multiples
/// of the GEMM kernel's panel width from one panel (below <see cref="DeformConv2dWorkspace.MinForwardTileRows"/>
/// too) up to what <see cref="DeformConv2dWorkspace.LargestTileBytes"/> holds, or one panel where it holds less
/// (at most ten, evenly picked), the pick and the whole image. Every candidate's output is checked bitwise against the pick's.</summary>
public static class TileBenchmark
{
    public static int Run(string[] args)
    {
        string shapes = "all";
        string? custom = null;
        int threads = 2, pairs = 20;
        bool useDouble = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--shapes": shapes = args[++i]; break;
                case "--custom": custom = args[++i]; break;
                case "--threads": threads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--pairs": pairs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--double": useDouble = true; break;
                default: throw new ArgumentException($"unknown option {args[i]}; options: --shapes all|none|1,2,… --custom NxCxH,… --threads T --pairs P --double");
            }
        }
        var list = shapes == "none" ? [] : BenchShapes.Parse(shapes).ToList();
        foreach (string item in custom?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? [])
        {
            int[] p = item.Split('x').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            if (p.Length != 3)
                throw new ArgumentException($"--custom: expected NxCxH, got {item}");
            list.Add(new BenchShape($"N{p[0]} C{p[1]}->{p[1]} {p[2]}x{p[2]}", p[0], p[1], p[1], p[2], p[2]));
        }
        EngineOptions.Threads = threads;
        Console.WriteLine($"{IsaReport.Describe()}; {(useDouble ? "float64" : "float32")} forward, {threads} thread(s), {pairs} interleaved rounds, wall-clock ms");
        foreach (var shape in list)
        {
            if (useDouble)
                Measure<double>(shape, threads, pairs);
            else
                Measure<float>(shape, threads, pairs);
        }
        return 0;
    }

    private static void Measure<T>(BenchShape shape, int threads, int pairs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var inputs = BenchInputs<T>.For(shape);
        var dp = DeformConv2dParams.Create(inputs.Input, inputs.Offset, inputs.Weight, inputs.Bias, null, (1, 1), null, inputs.Mask);
        int size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        int positions = shape.H * shape.W, panel = size == sizeof(float) ? Gemm.PanelColumns<float>() : Gemm.PanelColumns<double>();
        long largest = DeformConv2dWorkspace.LargestTileBytes / ((long)shape.Depth * size);
        int pick = DeformConv2dWorkspace.ForwardTileRows(dp, size, threads);
        var multiples = new List<int>();
        // From one panel, below MinForwardTileRows too: what the bound keeps out is measured as well.
        for (long rows = panel; rows <= Math.Max(Math.Min(largest, positions), panel); rows += panel)
            multiples.Add((int)rows);
        // At most ten, evenly picked, then the pick, the whole image (if it fits) and untiled (0).
        var candidates = multiples.Count <= 10 ? multiples : Enumerable.Range(0, 10).Select(i => multiples[i * (multiples.Count - 1) / 9]).ToList();
        candidates.Add(pick);
        if (positions <= largest)
            candidates.Add(positions);
        candidates.Add(0);
        candidates = candidates.Where(c => c >= 0).Distinct().OrderBy(c => c).ToList();
        T[] Forward(int rows)
        {
            CpuFastBackend.TiledForward = rows > 0;
            CpuFastBackend.ForwardTileRowsOverride = rows;
            try
            {
                using var _ = Autograd.NoGrad();
                return inputs.Forward().CpuData;
            }
            finally
            {
                CpuFastBackend.TiledForward = true;
                CpuFastBackend.ForwardTileRowsOverride = 0;
            }
        }
        var reference = Forward(pick);
        var times = candidates.ToDictionary(c => c, _ => new List<double>());
        bool same = true;
        foreach (int c in candidates)
            same &= Forward(c).AsSpan().SequenceEqual(reference);
        for (int round = -2; round < pairs; round++)
            foreach (int c in candidates)
            {
                long start = Stopwatch.GetTimestamp();
                Forward(c);
                if (round >= 0)
                    times[c].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        Console.WriteLine($"{shape.Name}: column rows of {shape.Depth * size} B, panel {panel}, fewest tile positions {DeformConv2dWorkspace.MinForwardTileRows(size)}, tile budget {DeformConv2dWorkspace.TileBytes((long)shape.Depth * size) >> 10} KiB; outputs bitwise the same: {(same ? "yes" : "NO")}");
        Console.WriteLine($"{"tile positions",16}{"tiles/image",13}{"median",9}{"min",9}");
        foreach (int c in candidates)
        {
            string label = c == 0 ? "untiled" : c.ToString(CultureInfo.InvariantCulture);
            string tiles = c == 0 ? "-" : ((positions + c - 1) / c).ToString(CultureInfo.InvariantCulture);
            Console.WriteLine($"{label,16}{tiles,13}{Samples.Median(times[c]),9:F2}{Samples.Min(times[c]),9:F2}{(c == pick ? "  <- picked" : "")}");
        }
    }
}
