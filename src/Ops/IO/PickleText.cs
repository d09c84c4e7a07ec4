using System.Globalization;
using System.Text;

namespace DeformEngine.IO;

/// <summary>The text arguments of protocol 0: STRING's quoted Python literal and UNICODE's
/// raw-unicode-escape.</summary>
internal static class PickleText
{
    /// <summary>A quoted literal such as <c>'a\'b\x00'</c>, decoded byte for byte (Latin-1).</summary>
    public static string QuotedString(string line)
    {
        if (line.Length < 2 || line[0] != line[^1] || (line[0] != '\'' && line[0] != '"'))
            throw new CheckpointFault($"STRING's argument {PickleReader.Shorten(line)} is not a quoted string.");
        var body = line[1..^1];
        var text = new StringBuilder(body.Length);
        for (int i = 0; i < body.Length; i++)
        {
            if (body[i] != '\\')
            {
                text.Append(body[i]);
                continue;
            }
            if (++i == body.Length) throw new CheckpointFault("STRING's argument ends in a lone backslash.");
            switch (body[i])
            {
                case '\\' or '\'' or '"': text.Append(body[i]); break;
                case 'n': text.Append('\n'); break;
                case 'r': text.Append('\r'); break;
                case 't': text.Append('\t'); break;
                case '0': text.Append('\0'); break;
                case 'x' when i + 2 < body.Length && IsHex(body.AsSpan(i + 1, 2)):
                    text.Append((char)int.Parse(body.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    i += 2;
                    break;
                default: throw new CheckpointFault($"STRING's argument has the escape \\{body[i]}, which the reader does not decode.");
            }
        }
        return text.ToString();
    }

    /// <summary>Latin-1 text in which <c>\uXXXX</c> and <c>\UXXXXXXXX</c> stand for code points.</summary>
    public static string RawUnicodeEscape(byte[] line)
    {
        var text = new StringBuilder(line.Length);
        for (int i = 0; i < line.Length; i++)
        {
            int digits = line[i] == '\\' && i + 1 < line.Length ? line[i + 1] switch { (byte)'u' => 4, (byte)'U' => 8, _ => 0 } : 0;
            if (digits == 0)
            {
                text.Append((char)line[i]);
                continue;
            }
            if (i + 2 + digits > line.Length || !IsHex(Encoding.Latin1.GetString(line, i + 2, digits)))
                throw new CheckpointFault($"UNICODE's argument has a truncated \\{(char)line[i + 1]} escape.");
            int codePoint = int.Parse(Encoding.Latin1.GetString(line, i + 2, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (codePoint is < 0 or > 0x10FFFF or (>= 0xD800 and <= 0xDFFF) && digits == 8)
                throw new CheckpointFault($"UNICODE's argument escapes the code point {codePoint:X}, which is not a character.");
            text.Append(digits == 4 ? ((char)codePoint).ToString() : char.ConvertFromUtf32(codePoint));
            i += 1 + digits;
        }
        return text.ToString();
    }

    private static bool IsHex(ReadOnlySpan<char> text)
    {
        foreach (char c in text)
            if (!char.IsAsciiHexDigit(c)) return false;
        return true;
    }
}
