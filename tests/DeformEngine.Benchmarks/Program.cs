using DeformEngine.Benchmarks;

// One command per benchmark; each lives in its own static class.
string command = args.Length > 0 ? args[0] : "";
switch (command)
{
    case "gemm":
        return GemmBenchmark.Run(args[1..]);
    case "kernel":
        KernelBenchmark.Run(args[1..]);
        break;
    case "floor":
        return FloorBenchmark.Run(args[1..]);
    case "faults":
        return FaultBenchmark.Run(args[1..]);
    case "deform":
        return DeformBenchmark.Run(args[1..]);
    case "attention":
        return AttentionBenchmark.Run(args[1..]);
    case "dcnv3":
        return Dcnv3Benchmark.Run(args[1..]);
    case "tiles":
        return TileBenchmark.Run(args[1..]);
    case "training":
        return TrainingStepBenchmark.Run(args[1..]);
    default:
        Console.Error.WriteLine("usage: DeformEngine.Benchmarks <command> [options]");
        Console.Error.WriteLine("commands: gemm, kernel, deform, floor, faults, attention, dcnv3, tiles, training");
        return 1;
}
return 0;
