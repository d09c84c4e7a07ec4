using System.Text.Json;
using DeformEngine.IO;

namespace DeformEngine.Tests.Support;

/// <summary>One folder of golden data written by tests/golden/make_golden.py (torchvision, float64).</summary>
public sealed class GoldenCase(string directory)
{
    public string Name { get; } = Path.GetFileName(directory);
    public JsonElement Params { get; } = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "params.json"))).RootElement;

    public bool Has(string array) => File.Exists(Path.Combine(directory, array + ".npy"));

    public Tensor<T> Load<T>(string array) where T : unmanaged, IFloatingPointIeee754<T> =>
        Npy.Load<T>(Path.Combine(directory, array + ".npy"));

    public (int H, int W) Pair(string key) => (Params.GetProperty(key)[0].GetInt32(), Params.GetProperty(key)[1].GetInt32());

    public static IEnumerable<GoldenCase> All(string op)
    {
        var root = Path.Combine(AppContext.BaseDirectory, "golden-data", op);
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"golden data missing: {root}");
        return Directory.GetDirectories(root).Order().Select(d => new GoldenCase(d));
    }

    public override string ToString() => Name;
}
