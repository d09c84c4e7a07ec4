using System.Text;

namespace DeformEngine.GpuCheck;

/// <summary>The markdown the check writes, also echoed to the console as it grows.</summary>
internal sealed class Report
{
    private readonly StringBuilder _text = new();

    public string Text => _text.ToString();

    public void Line(string line = "")
    {
        _text.AppendLine(line);
        Console.Out.Flush();
    }

    public void Table(string[] header, IEnumerable<string[]> rows)
    {
        Line("| " + string.Join(" | ", header) + " |");
        Line("|" + string.Concat(header.Select(_ => "---|")));
        foreach (var row in rows) Line("| " + string.Join(" | ", row) + " |");
        Line();
    }
}
