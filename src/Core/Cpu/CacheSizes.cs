using System.Globalization;

namespace DeformEngine.Cpu;

/// <summary>The per-core data cache sizes GEMM blocks for, read once from Linux's
/// /sys/devices/system/cpu/cpu0/cache; elsewhere (or when unreadable) 32 KiB L1d and 1 MiB L2,
/// the smaller of the common x86 server cores, so that blocks sized from them fit everywhere.</summary>
internal static class CacheSizes
{
    public const int DefaultL1 = 32 << 10;
    public const int DefaultL2 = 1 << 20;

    private const string CacheDirectory = "/sys/devices/system/cpu/cpu0/cache";

    public static int L1Data { get; }

    public static int L2 { get; }

    static CacheSizes()
    {
        L1Data = Read(level: 1, DefaultL1);
        L2 = Read(level: 2, DefaultL2);
    }

    /// <summary>The size of the data (or unified) cache at <paramref name="level"/>, or the default.</summary>
    private static int Read(int level, int fallback)
    {
        try
        {
            if (!Directory.Exists(CacheDirectory))
                return fallback;
            foreach (string index in Directory.EnumerateDirectories(CacheDirectory, "index*"))
            {
                if (File.ReadAllText(Path.Combine(index, "level")).Trim() != level.ToString(CultureInfo.InvariantCulture))
                    continue;
                if (File.ReadAllText(Path.Combine(index, "type")).Trim() == "Instruction")
                    continue;
                int? size = ParseSize(File.ReadAllText(Path.Combine(index, "size")));
                if (size is > 0)
                    return size.Value;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return fallback;
    }

    /// <summary>"48K", "2048K", "1M" → bytes; null when the text is not such a size.</summary>
    internal static int? ParseSize(string text)
    {
        text = text.Trim();
        if (text.Length == 0)
            return null;
        long multiplier = char.ToUpperInvariant(text[^1]) switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, _ => 1 };
        string digits = multiplier == 1 ? text : text[..^1];
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value))
            return null;
        return (int)Math.Clamp(value * multiplier, 0, int.MaxValue);
    }
}
