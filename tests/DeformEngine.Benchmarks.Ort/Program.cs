using DeformEngine.Benchmarks;

// DeformEngine.Benchmarks.Ort --models DIR [--pairs P] [--threads T] [--shapes all|1,2,…] [--gap-ms G] [--spin-ms S] [--json PATH]
return OrtBenchmark.Run(args);
