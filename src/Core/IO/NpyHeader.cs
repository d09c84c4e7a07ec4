using System.Globalization;

namespace DeformEngine.IO;

/// <summary>The header of a .npy file: a Python dict literal with exactly the keys 'descr' (a
/// string), 'fortran_order' (True or False) and 'shape' (a tuple of non-negative ints), as NumPy
/// writes it and as <c>numpy.lib.format</c> reads it back with <c>ast.literal_eval</c>. Anything
/// else — another expression, a key given twice (Python would keep the last value, a reader taking
/// the first would read other numbers), a missing or extra key, a value of another type — is an
/// <see cref="InvalidDataException"/>. The grammar is the part of Python's that those headers use:
/// single- or double-quoted strings without escapes, ints with an optional L (Python 2 files), tuples
/// with an optional trailing comma, and whitespace between tokens.</summary>
internal sealed class NpyHeader
{
    private readonly string _text;
    private int _at;

    private NpyHeader(string text) => _text = text;

    public static (string Descr, bool FortranOrder, long[] Shape) Parse(string text)
    {
        var values = new NpyHeader(text).Dictionary();
        string descr = values.TryGetValue("descr", out var d) ? d as string ?? throw Bad($"'descr' must be a string, got {Describe(d)}.")
            : throw Bad("header has no 'descr'.");
        bool fortran = values.TryGetValue("fortran_order", out var f) ? f as bool? ?? throw Bad($"'fortran_order' must be True or False, got {Describe(f)}.")
            : throw Bad("header has no 'fortran_order'.");
        var shape = values.TryGetValue("shape", out var s) ? s as long[] ?? throw Bad($"'shape' must be a tuple of ints, got {Describe(s)}.")
            : throw Bad("header has no 'shape'.");
        foreach (var key in values.Keys)
            if (key is not ("descr" or "fortran_order" or "shape"))
                throw Bad($"header has the key '{key}'; expected only 'descr', 'fortran_order' and 'shape'.");
        return (descr, fortran, shape);
    }

    private static InvalidDataException Bad(string message) => new($"npy: {message}");

    private static string Describe(object? value) => value switch
    {
        long v => $"the int {v}",
        string v => $"the string '{v}'",
        bool v => v ? "True" : "False",
        _ => "another value",
    };

    private Dictionary<string, object> Dictionary()
    {
        SkipSpace();
        Expect('{', "a dict literal starting with '{'");
        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        SkipSpace();
        while (Peek() != '}')
        {
            string key = String();
            SkipSpace();
            Expect(':', $"':' after the key '{key}'");
            SkipSpace();
            object value = Value(key);
            if (!values.TryAdd(key, value))
                throw Bad($"header gives the key '{key}' twice.");
            SkipSpace();
            if (Peek() == ',')
            {
                _at++;
                SkipSpace();
            }
            else if (Peek() != '}')
            {
                throw Bad($"header is not a dict literal: expected ',' or '}}' at character {_at}, got {Shown()}.");
            }
        }
        _at++;
        SkipSpace();
        if (_at != _text.Length)
            throw Bad($"header is not a dict literal: {Shown()} after its closing '}}' at character {_at}.");
        return values;
    }

    private object Value(string key)
    {
        char c = Peek();
        if (c is '\'' or '"') return String();
        if (c == '(') return Tuple(key);
        if (c == '-' || char.IsAsciiDigit(c)) return Int(key);
        if (Word("True")) return true;
        if (Word("False")) return false;
        throw Bad($"header is not a dict literal: unexpected {Shown()} as the value of '{key}' at character {_at}.");
    }

    private long[] Tuple(string key)
    {
        _at++;
        var items = new List<long>();
        bool comma = false;
        SkipSpace();
        while (Peek() != ')')
        {
            if (items.Count > 0 && !comma)
                throw Bad($"header is not a dict literal: expected ',' or ')' in the value of '{key}' at character {_at}, got {Shown()}.");
            items.Add(Int(key));
            SkipSpace();
            comma = Peek() == ',';
            if (comma) _at++;
            SkipSpace();
        }
        _at++;
        // (3) is the int 3 in Python; only (3,) is a one-element tuple.
        if (items.Count == 1 && !comma)
            throw Bad($"'{key}' must be a tuple of ints, got ({items[0]}) (a one-element tuple is written ({items[0]},)).");
        return items.ToArray();
    }

    private long Int(string key)
    {
        int start = _at;
        if (Peek() == '-') _at++;
        while (char.IsAsciiDigit(Peek())) _at++;
        string digits = _text[start.._at];
        if (Peek() is 'L' or 'l') _at++;
        if (!long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) || value < 0 || value > int.MaxValue)
            throw Bad(key == "shape" ? $"bad shape dimension '{digits}'." : $"bad integer '{digits}' in the value of '{key}'.");
        return value;
    }

    private string String()
    {
        char quote = Peek();
        if (quote is not ('\'' or '"'))
            throw Bad($"header is not a dict literal: expected a quoted key at character {_at}, got {Shown()}.");
        int end = _text.IndexOf(quote, _at + 1);
        if (end < 0) throw Bad($"header is not a dict literal: the string at character {_at} is not closed.");
        string value = _text[(_at + 1)..end];
        if (value.Contains('\\') || value.Contains('\n'))
            throw Bad($"header is not a dict literal of the expected form: the string at character {_at} holds an escape or a line break.");
        _at = end + 1;
        return value;
    }

    private bool Word(string word)
    {
        if (string.CompareOrdinal(_text, _at, word, 0, word.Length) != 0) return false;
        int next = _at + word.Length;
        if (next < _text.Length && (char.IsAsciiLetterOrDigit(_text[next]) || _text[next] == '_')) return false;
        _at = next;
        return true;
    }

    private void Expect(char c, string what)
    {
        if (Peek() != c) throw Bad($"header is not a dict literal: expected {what} at character {_at}, got {Shown()}.");
        _at++;
    }

    private char Peek() => _at < _text.Length ? _text[_at] : '\0';

    private string Shown() => _at >= _text.Length ? "the end of the header"
        : char.IsControl(_text[_at]) ? $"U+{(int)_text[_at]:X4}" : $"'{_text[_at]}'";

    /// <summary>Python's whitespace between tokens (NumPy pads with spaces and ends with a newline).</summary>
    private void SkipSpace()
    {
        while (Peek() is ' ' or '\t' or '\n' or '\r' or '\f' or '\v') _at++;
    }
}
