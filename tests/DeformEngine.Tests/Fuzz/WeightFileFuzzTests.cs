using System.Buffers.Binary;
using DeformEngine.IO;

namespace DeformEngine.Tests.Fuzz;

/// <summary>Random truncations and byte flips of valid .npy and safetensors files. A mutated file
/// either loads — with the numbers its bytes hold: the original ones after a flip in the header, the
/// flipped bytes' after a flip in the data — or throws <see cref="InvalidDataException"/>; never
/// another exception, and never an allocation the file's size does not justify.</summary>
[TestClass]
public class WeightFileFuzzTests
{
    private const int Mutations = 300;
    // What one load may allocate: its result and staging copies (a few times the file: a U8
    // tensor read as double is 8×) plus buffers of fixed size (a 64 KiB read chunk) and exceptions.
    private const int AllocationPerFileByte = 16;
    private const long AllocationConstantBytes = 512L << 10;

    private static byte[] Mutate(SeededRandom rng, byte[] valid, out int firstChanged, out bool truncated)
    {
        truncated = rng.NextInt(3) == 0;
        if (truncated)
        {
            int length = rng.NextInt(valid.Length);
            firstChanged = length;
            return valid[..length];
        }
        var bytes = (byte[])valid.Clone();
        int flips = 1 + (rng.NextInt(4) == 0 ? rng.NextInt(4) : 0);
        firstChanged = bytes.Length;
        for (int f = 0; f < flips; f++)
        {
            int at = rng.NextInt(bytes.Length);
            bytes[at] = rng.NextInt(3) == 0 ? (byte)(bytes[at] ^ (1 << rng.NextInt(8))) : (byte)rng.NextInt(256);
            firstChanged = Math.Min(firstChanged, at);
        }
        return bytes;
    }

    /// <summary>Runs <paramref name="load"/>, returns its result or null on InvalidDataException, and
    /// fails on any other exception or an allocation past the bound.</summary>
    private static TResult? LoadOrInvalid<TResult>(Func<TResult> load, int fileLength, string what) where TResult : class
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        TResult? result = null;
        try
        {
            result = load();
        }
        catch (InvalidDataException)
        {
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name}: {e.Message}");
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.IsLessThanOrEqualTo(AllocationPerFileByte * (long)fileLength + AllocationConstantBytes, allocated, $"{what}: allocated {allocated} bytes");
        return result;
    }

    private static byte[] NpyBytes<T>(Tensor<T> tensor) where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var stream = new MemoryStream();
        Npy.Save(stream, tensor);
        return stream.ToArray();
    }

    [TestMethod]
    public void Npy_RandomTruncationsAndFlips_LoadTheirNumbersOrThrowInvalidData()
    {
        var rng = new SeededRandom(515);
        var originals = new[]
        {
            NpyBytes(Tensor<double>.Randn(1, 2, 3)),
            NpyBytes(Tensor<float>.Randn(2, 4, 1, 2)),
            NpyBytes(Tensor<double>.Randn(3, 5)),
            NpyBytes(Tensor<double>.Zeros(0, 3)),
            NpyBytes(Tensor<double>.Scalar(2.5)),
        };
        for (int m = 0; m < Mutations; m++)
        {
            var valid = originals[rng.NextInt(originals.Length)];
            var original = Npy.Load<double>(new MemoryStream(valid));
            int dataStart = valid.Length - original.Numel * (valid.AsSpan().IndexOf("<f4"u8) >= 0 ? 4 : 8);
            var bytes = Mutate(rng, valid, out int firstChanged, out bool truncated);
            string what = $"mutation {m} ({(truncated ? "truncated" : "flipped")} at {firstChanged} of {valid.Length})";
            var loaded = LoadOrInvalid(() => Npy.Load<double>(new MemoryStream(bytes)), bytes.Length, what);
            if (loaded is null) continue;
            CollectionAssert.AreEqual(original.Shape, loaded.Shape, $"{what}: shape");
            if (firstChanged >= dataStart)
            {
                // A flip in the data: the numbers are the mutated bytes.
                int size = (valid.Length - dataStart) / Math.Max(original.Numel, 1);
                var expected = Enumerable.Range(0, original.Numel).Select(i => size == 4
                    ? BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(dataStart + 4 * i))
                    : BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(dataStart + 8 * i))).ToArray();
                CollectionAssert.AreEqual(expected, loaded.ToArray(), $"{what}: values");
            }
            else
            {
                CollectionAssert.AreEqual(original.ToArray(), loaded.ToArray(), $"{what}: a header that still parses means the same array");
            }
        }
    }

    [TestMethod]
    public void SafeTensors_RandomTruncationsAndFlips_LoadTheirNumbersOrThrowInvalidData()
    {
        var rng = new SeededRandom(616);
        var originals = new[]
        {
            SafeTensors.Serialize<float>([new("a.weight", Tensor<float>.Randn(1, 3, 2)), new("a.bias", Tensor<float>.Randn(2, 3))],
                new Dictionary<string, string> { ["format"] = "pt" }),
            SafeTensors.Serialize<double>([new("w", Tensor<double>.Randn(3, 2, 2)), new("empty", Tensor<double>.Zeros(0, 4))]),
            SafeTensors.Serialize<float>([new("x", Tensor<float>.Scalar(1.5f))]),
        };
        for (int m = 0; m < Mutations; m++)
        {
            var valid = originals[rng.NextInt(originals.Length)];
            var original = SafeTensors.Deserialize<double>(valid);
            long dataStart = 8 + (long)BinaryPrimitives.ReadUInt64LittleEndian(valid);
            var bytes = Mutate(rng, valid, out int firstChanged, out bool truncated);
            string what = $"mutation {m} ({(truncated ? "truncated" : "flipped")} at {firstChanged} of {valid.Length})";
            var loaded = LoadOrInvalid(() => SafeTensors.Deserialize<double>(bytes, "fuzz.safetensors"), bytes.Length, what);
            if (loaded is null) continue;
            // A name byte or a same-size dtype may change and still parse: the layout may not.
            CollectionAssert.AreEqual(original.Values.Select(t => ShapeMath.Format(t.Shape)).ToArray(),
                loaded.Values.Select(t => ShapeMath.Format(t.Shape)).ToArray(), $"{what}: shapes in data order");
            if (firstChanged >= dataStart)
                CollectionAssert.AreEqual(original.Keys.ToArray(), loaded.Keys.ToArray(), $"{what}: a flip in the data keeps the names");
            else if (original.Keys.SequenceEqual(loaded.Keys) && !truncated)
                for (int t = 0; t < original.Count; t++)
                    if (!original.GetAt(t).Value.ToArray().SequenceEqual(loaded.GetAt(t).Value.ToArray()))
                        StringAssert.Contains(System.Text.Encoding.UTF8.GetString(bytes, 8, (int)(dataStart - 8)), "\"dtype\"",
                            $"{what}: different numbers under the same names need a different dtype");
        }
    }

    [TestMethod]
    public void Npy_LyingHeadersOnForwardOnlyStream_AllocateNoMoreThanTheStreamHolds()
    {
        // A header claiming 10^8 doubles (800 MB) on a stream that cannot tell its length: the reader
        // stages what really arrives, so the allocation stays bounded by the stream's size.
        var valid = NpyBytes(Tensor<double>.Randn(4, 4, 4));
        string header = System.Text.Encoding.ASCII.GetString(valid, 10, valid.Length - 10 - 16 * 8);
        StringAssert.Contains(header, "(4, 4)");
        var lying = System.Text.Encoding.ASCII.GetBytes(header.Replace("(4, 4)", "(10000000, 10)", StringComparison.Ordinal).PadRight(header.Length)[..header.Length]);
        var bytes = valid[..10].Concat(lying).Concat(valid[(10 + header.Length)..]).ToArray();
        using var stream = new NonSeekable(bytes);
        Assert.IsNull(LoadOrInvalid(() => Npy.Load<double>(stream), bytes.Length, "lying header"));
    }

    private sealed class NonSeekable(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    }
}
