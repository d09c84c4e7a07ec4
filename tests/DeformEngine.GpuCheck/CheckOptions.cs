namespace DeformEngine.GpuCheck;

/// <summary>Command-line options of the GPU check.</summary>
internal sealed record CheckOptions(string Device, string Out, string Shapes, int Reps)
{
    public static CheckOptions Parse(string[] args)
    {
        var options = new CheckOptions("cuda", "gpu-check-out", "full", 10);
        for (int i = 0; i < args.Length; i++)
        {
            string value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value.", nameof(args));
            options = args[i] switch
            {
                "--device" when value is "cuda" or "cpu-accelerator" => options with { Device = value },
                "--out" => options with { Out = value },
                "--shapes" when value is "full" or "tiny" => options with { Shapes = value },
                "--reps" when int.TryParse(value, out int reps) && reps > 0 => options with { Reps = reps },
                _ => throw new ArgumentException($"Unknown option or value: {args[i]} {value}. Usage: --device cuda|cpu-accelerator "
                    + "--out DIR --shapes full|tiny --reps N", nameof(args)),
            };
            i++;
        }
        return options;
    }
}
