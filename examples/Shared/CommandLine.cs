using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace DeformEngine.Examples;

/// <summary>The examples' command lines: flags read one after another, each value checked, every mistake an
/// <see cref="ArgumentException"/> that names the flag and what it got.</summary>
internal sealed class CommandLine(string[] args)
{
    private int _next;
    private string _flag = "";

    /// <summary>Whether a flag is left; <paramref name="flag"/> is it.</summary>
    public bool NextFlag(out string flag)
    {
        if (_next >= args.Length)
        {
            flag = "";
            return false;
        }
        flag = _flag = args[_next++];
        return true;
    }

    /// <summary>The value that follows the current flag.</summary>
    public string Value() =>
        _next < args.Length ? args[_next++] : throw new ArgumentException($"{_flag} needs a value.");

    public int PositiveInt()
    {
        string text = Value();
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 0
            ? v : throw new ArgumentException($"{_flag} needs a positive integer, got '{text}'.");
    }

    public double NonNegative()
    {
        string text = Value();
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v >= 0
            ? v : throw new ArgumentException($"{_flag} needs a non-negative number, got '{text}'.");
    }

    public long Integer()
    {
        string text = Value();
        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v)
            ? v : throw new ArgumentException($"{_flag} needs an integer, got '{text}'.");
    }

    /// <summary>Options parsed from <paramref name="args"/>, or the exit code to return at once: 0 after printing
    /// <paramref name="usage"/> for --help or -h, 2 after printing the mistake and the usage.</summary>
    public static bool TryParse<T>(string[] args, string usage, Func<CommandLine, T> parse, [NotNullWhen(true)] out T? options, out int exitCode)
        where T : class
    {
        options = default;
        exitCode = 0;
        if (args.Contains("--help") || args.Contains("-h"))
        {
            Console.WriteLine(usage);
            return false;
        }
        try
        {
            options = parse(new CommandLine(args));
            return true;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"error: {e.Message}\n\n{usage}");
            exitCode = 2;
            return false;
        }
    }
}
