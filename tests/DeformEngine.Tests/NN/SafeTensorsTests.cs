using System.Buffers.Binary;
using System.Text;
using DeformEngine.IO;
using DeformEngine.NN;

namespace DeformEngine.Tests.NN;

[TestClass]
public class SafeTensorsTests
{
    private static Sequential<T> Model<T>(long seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new SeededRandom(seed);
        return new Sequential<T>(
            new DeformConv2d<T>(1, 2, modulation: true, random: random),
            new BatchNorm2d<T>(2),
            new Flatten<T>(),
            new Linear<T>(2 * 4 * 4, 3, random: random));
    }

    /// <summary>A file from a header string and data bytes, the header length written as given.</summary>
    private static byte[] File(string header, byte[] data, ulong? declaredLength = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)json.Length);
        json.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + json.Length);
        return bytes;
    }

    private static void RoundTrip<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        var source = Model<T>(1);
        source.Forward(Tensor<T>.Randn(2, 2, 1, 4, 4));
        var path = Path.Combine(Path.GetTempPath(), $"deformengine-{typeof(T).Name}-{Guid.NewGuid():N}.safetensors");
        try
        {
            source.SaveSafeTensors(path, new Dictionary<string, string> { ["format"] = "pt" });
            var target = Model<T>(2);
            var result = target.LoadSafeTensors(path);
            Assert.AreEqual(0, result.MissingKeys.Count + result.UnexpectedKeys.Count);
            var expected = source.StateDict();
            var actual = target.StateDict();
            CollectionAssert.AreEqual(expected.Keys.ToArray(), actual.Keys.ToArray());
            CollectionAssert.Contains(actual.Keys.ToArray(), "0.conv_offset.weight");
            CollectionAssert.Contains(actual.Keys.ToArray(), "1.num_batches_tracked");
            foreach (var (name, tensor) in expected)
            {
                CollectionAssert.AreEqual(tensor.Shape, actual[name].Shape, name);
                CollectionAssert.AreEqual(tensor.ToArray(), actual[name].ToArray(), name);
            }
            Assert.AreEqual("pt", SafeTensors.ReadMetadata(path)["format"]);
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    [TestMethod]
    public void StateDict_RoundTripFloat_RestoresEveryTensor() => RoundTrip<float>();

    [TestMethod]
    public void StateDict_RoundTripDouble_RestoresEveryTensor() => RoundTrip<double>();

    [TestMethod]
    public void Serialize_Header_IsAlignedJsonWithDataOffsets()
    {
        var bytes = SafeTensors.Serialize(new Dictionary<string, Tensor<float>>
        {
            ["a"] = Tensor<float>.FromArray([1, 2, 3], 3),
            ["b.c"] = Tensor<float>.Scalar(4),
        });
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.AreEqual(0UL, headerLength % 8);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength).TrimEnd(' ');
        Assert.AreEqual("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},\"b.c\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[12,16]}}", header);
        Assert.AreEqual(8 + (int)headerLength + 16, bytes.Length);
    }

    [TestMethod]
    public void Deserialize_PyTorchDtypes_ConvertToRequestedType()
    {
        // As a PyTorch BatchNorm state: F16 weight [1, −2], BF16 bias [0.5], I64 num_batches_tracked 7.
        var data = new byte[4 + 2 + 8];
        BinaryPrimitives.WriteHalfLittleEndian(data, (Half)1);
        BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(2), (Half)(-2));
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(4), (ushort)(BitConverter.SingleToInt32Bits(0.5f) >> 16));
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(6), 7);
        var file = File("{\"weight\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
            + "\"bias\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[4,6]},"
            + "\"num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[6,14]}}", data);
        var tensors = SafeTensors.Deserialize<double>(file);
        CollectionAssert.AreEqual(new[] { "weight", "bias", "num_batches_tracked" }, tensors.Keys.ToArray());
        CollectionAssert.AreEqual(new double[] { 1, -2 }, tensors["weight"].ToArray());
        Assert.AreEqual(0.5, tensors["bias"].Item());
        Assert.AreEqual(7.0, tensors["num_batches_tracked"].Item());
        Assert.AreEqual(0, tensors["num_batches_tracked"].Rank);
    }

    private static string MalformedMessage(byte[] file) =>
        Assert.ThrowsExactly<InvalidDataException>(() => SafeTensors.Deserialize<float>(file, "test.safetensors")).Message;

    private const string OneFloat = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";

    [TestMethod]
    public void Deserialize_TooShort_SaysSo() =>
        StringAssert.Contains(MalformedMessage([1, 2, 3]), "fewer than the 8-byte header length");

    [TestMethod]
    public void Deserialize_HeaderLengthPastEnd_SaysSo()
    {
        string message = MalformedMessage(File(OneFloat, new byte[4], declaredLength: 1000));
        StringAssert.Contains(message, "test.safetensors");
        StringAssert.Contains(message, "header length field says 1000 bytes");
    }

    [TestMethod]
    public void Deserialize_InvalidJson_SaysSo() =>
        StringAssert.Contains(MalformedMessage(File("{\"w\": [", new byte[4])), "is not valid JSON");

    [TestMethod]
    public void Deserialize_UnknownDtype_NamesTensorAndDtype()
    {
        string message = MalformedMessage(File(OneFloat.Replace("F32", "Q7", StringComparison.Ordinal), new byte[4]));
        StringAssert.Contains(message, "tensor 'w': unknown dtype 'Q7'");
        StringAssert.Contains(message, "F32");
    }

    [TestMethod]
    public void Deserialize_ShapeNotMatchingOffsets_SaysHowManyBytes() =>
        StringAssert.Contains(MalformedMessage(File(OneFloat.Replace("[1]", "[2]", StringComparison.Ordinal), new byte[4])),
            "shape [2] of F32 needs 8 bytes, but data_offsets [0, 4] span 4");

    [TestMethod]
    public void Deserialize_HeaderNotMatchingData_SaysSo()
    {
        StringAssert.Contains(MalformedMessage(File(OneFloat, new byte[8])), "describes 4 bytes of data, but the file holds 8");
        StringAssert.Contains(MalformedMessage(File(OneFloat, new byte[2])), "run past the 2 bytes of data");
        string gap = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        StringAssert.Contains(MalformedMessage(File(gap, new byte[8])), "bytes [0, 4) of the data belong to no tensor");
        string overlap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        StringAssert.Contains(MalformedMessage(File(overlap, new byte[8])), "overlaps");
    }

    [TestMethod]
    public void Deserialize_MissingOrBadFields_SaySo()
    {
        StringAssert.Contains(MalformedMessage(File("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4])), "missing string field \"dtype\"");
        StringAssert.Contains(MalformedMessage(File("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", new byte[4])), "non-negative integers");
        StringAssert.Contains(MalformedMessage(File("[1, 2]", [])), "must be a JSON object");
    }

    [TestMethod]
    public void LoadSafeTensors_WrongNames_ThrowsListingThem()
    {
        var path = Path.Combine(Path.GetTempPath(), $"deformengine-names-{Guid.NewGuid():N}.safetensors");
        try
        {
            SafeTensors.Save(path, new Dictionary<string, Tensor<float>> { ["weight"] = Tensor<float>.Zeros(3, 2) });
            var layer = new Linear<float>(2, 3, random: new SeededRandom(1));
            StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => layer.LoadSafeTensors(path)).Message, "Missing: bias");
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }
}
