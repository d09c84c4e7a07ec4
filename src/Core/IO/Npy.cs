using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;

namespace DeformEngine.IO;

/// <summary>Reads and writes NumPy <c>.npy</c> files (C order, little-endian float32/float64,
/// format versions 1.0, 2.0 and 3.0).</summary>
public static class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Reads the one array of the <c>.npy</c> file at <paramref name="path"/>; float32 data read as double (or
    /// the reverse) is converted.</summary>
    /// <exception cref="InvalidDataException">The file is not a supported <c>.npy</c> file, or its data is truncated or
    /// followed by extra bytes.</exception>
    public static Tensor<T> Load<T>(string path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var stream = File.OpenRead(path);
        return Load<T>(stream);
    }

    /// <summary>Reads one array; float32 data read as double (or the reverse) is converted.</summary>
    public static Tensor<T> Load<T>(Stream stream) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(stream);
        var (descr, shape) = ReadHeader(stream);
        int elementSize = descr == "<f4" ? 4 : 8;
        long count = 1;
        foreach (long d in shape)
        {
            count *= d;
            if (count > Array.MaxLength)
                throw new InvalidDataException($"npy: shape ({string.Join(", ", shape)}) has more elements than an array can hold.");
        }
        long bytes = count * elementSize;
        // The data is staged in one byte buffer before conversion.
        if (bytes > Array.MaxLength)
            throw new InvalidDataException($"npy: shape ({string.Join(", ", shape)}) needs {bytes} data bytes, more than one load can hold ({Array.MaxLength}).");
        if (stream.CanSeek && stream.Length - stream.Position != bytes)
            throw new InvalidDataException(
                $"npy: header shape ({string.Join(", ", shape)}) needs {bytes} data bytes, the file holds {stream.Length - stream.Position}" +
                (stream.Length - stream.Position < bytes ? " (truncated)." : "."));

        // Read in bounded chunks so a lying header on a non-seekable stream cannot make us allocate
        // more than the stream really holds.
        using var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        long remaining = bytes;
        while (remaining > 0)
        {
            int read = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, remaining));
            if (read == 0)
                throw new InvalidDataException($"npy: data truncated: expected {bytes} bytes, got {bytes - remaining}.");
            buffer.Write(chunk, 0, read);
            remaining -= read;
        }
        if (stream.CanSeek && stream.Position != stream.Length)
            throw new InvalidDataException("npy: trailing bytes after the data.");

        var raw = buffer.GetBuffer().AsSpan(0, (int)bytes);
        var data = new T[count];
        if (elementSize == 4)
            for (int i = 0; i < data.Length; i++) data[i] = T.CreateChecked(BinaryPrimitives.ReadSingleLittleEndian(raw[(i * 4)..]));
        else
            for (int i = 0; i < data.Length; i++) data[i] = T.CreateChecked(BinaryPrimitives.ReadDoubleLittleEndian(raw[(i * 8)..]));
        return Tensor<T>.Wrap(data, shape.Select(d => (int)d).ToArray());
    }

    /// <summary>Writes the CPU tensor <paramref name="tensor"/> to <paramref name="path"/> as a version 1.0 <c>.npy</c>
    /// file (2.0 when the header does not fit 64 KiB), replacing any file there.</summary>
    /// <exception cref="NotSupportedException">The tensor lives on a non-CPU device.</exception>
    public static void Save<T>(string path, Tensor<T> tensor) where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var stream = File.Create(path);
        Save(stream, tensor);
    }

    /// <summary>Writes a version 1.0 file (2.0 when the header does not fit 64 KiB).</summary>
    public static void Save<T>(Stream stream, Tensor<T> tensor) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensor);
        string descr = typeof(T) == typeof(float) ? "<f4" : typeof(T) == typeof(double) ? "<f8"
            : throw new NotSupportedException($"npy: element type {typeof(T).Name} is not supported.");
        var shape = tensor.ShapeArray;
        string shapeText = shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape) + ")";
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shapeText}, }}";
        bool v2 = dict.Length + 11 > ushort.MaxValue;
        int prefix = Magic.Length + 2 + (v2 ? 4 : 2);
        int total = (prefix + dict.Length + 1 + 63) / 64 * 64;
        var header = dict.PadRight(total - prefix - 1) + "\n";
        stream.Write(Magic);
        stream.WriteByte(v2 ? (byte)2 : (byte)1);
        stream.WriteByte(0);
        Span<byte> length = stackalloc byte[4];
        if (v2) BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)header.Length);
        else BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)header.Length);
        stream.Write(length[..(v2 ? 4 : 2)]);
        stream.Write(Encoding.ASCII.GetBytes(header));
        stream.Write(MemoryMarshal.AsBytes(tensor.CpuData.AsSpan()));
    }

    private static (string Descr, long[] Shape) ReadHeader(Stream stream)
    {
        Span<byte> prefix = stackalloc byte[8];
        if (stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false) < 8 || !prefix[..6].SequenceEqual(Magic))
            throw new InvalidDataException("npy: bad magic: not a .npy file.");
        byte major = prefix[6];
        if (major is < 1 or > 3)
            throw new InvalidDataException($"npy: unsupported format version {major}.{prefix[7]}.");
        Span<byte> lengthBytes = stackalloc byte[4];
        int lengthSize = major == 1 ? 2 : 4;
        if (stream.ReadAtLeast(lengthBytes[..lengthSize], lengthSize, throwOnEndOfStream: false) < lengthSize)
            throw new InvalidDataException("npy: truncated header.");
        long headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(lengthBytes) : BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
        if (headerLength > 1 << 20)
            throw new InvalidDataException($"npy: header length {headerLength} is absurd.");
        if (stream.CanSeek && headerLength > stream.Length - stream.Position)
            throw new InvalidDataException($"npy: truncated header: {headerLength} bytes announced, {stream.Length - stream.Position} left.");
        var headerBytes = new byte[headerLength];
        if (stream.ReadAtLeast(headerBytes, headerBytes.Length, throwOnEndOfStream: false) < headerBytes.Length)
            throw new InvalidDataException("npy: truncated header.");
        string header;
        try
        {
            // Version 3 headers are UTF-8 (strictly: a malformed byte is an error, not a '\uFFFD'); 1 and 2 Latin-1.
            header = (major == 3 ? StrictUtf8 : Encoding.Latin1).GetString(headerBytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException($"npy: the version 3 header is not valid UTF-8 (byte {e.Index}).", e);
        }

        var (d, fortran, shape) = NpyHeader.Parse(header);
        if (d is not ("<f4" or "<f8"))
            throw new InvalidDataException($"npy: unsupported dtype '{d}'; expected '<f4' (float32) or '<f8' (float64).");
        if (fortran)
            throw new InvalidDataException("npy: Fortran-order arrays are not supported; save with C order.");
        return (d, shape);
    }

    private static readonly Encoding StrictUtf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
