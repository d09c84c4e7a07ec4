using System.Buffers.Binary;
using System.Text;
using DeformEngine.IO;

namespace DeformEngine.Tests.Hardening;

/// <summary>Headers that JSON accepts but safetensors does not: invalid UTF-8 in a name, a metadata
/// value or a dtype, and duplicate names. Each is an <see cref="InvalidDataException"/> naming the
/// file and the fault, from <see cref="SafeTensors.Load{T}(string)"/> and
/// <see cref="SafeTensors.ReadMetadata"/> alike.</summary>
[TestClass]
public class SafeTensorsMalformedTests
{
    private const string Marker = "\u0001";

    /// <summary>A file from a header in which each <see cref="Marker"/> becomes the byte 0xFF
    /// (never valid UTF-8), followed by 4 bytes of data per tensor.</summary>
    private static byte[] File(string header, int tensors = 1)
    {
        var json = Encoding.UTF8.GetBytes(header).Select(b => b == 1 ? (byte)0xFF : b).ToArray();
        var bytes = new byte[8 + json.Length + 4 * tensors];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        return bytes;
    }

    private static string Entry(string name, string dtype = "F32", int begin = 0) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[1],\"data_offsets\":[{begin},{begin + 4}]}}";

    /// <summary>Writes the file, checks Load and ReadMetadata both throw InvalidDataException naming
    /// the file, and returns Load's message.</summary>
    private static string Rejected(byte[] file)
    {
        string path = Path.Combine(Path.GetTempPath(), $"malformed-{Guid.NewGuid():N}.safetensors");
        try
        {
            System.IO.File.WriteAllBytes(path, file);
            var load = Assert.ThrowsExactly<InvalidDataException>(() => SafeTensors.Load<float>(path));
            var metadata = Assert.ThrowsExactly<InvalidDataException>(() => SafeTensors.ReadMetadata(path));
            StringAssert.Contains(load.Message, path);
            StringAssert.Contains(metadata.Message, path);
            return load.Message;
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    [TestMethod]
    public void Load_InvalidUtf8InTensorName_ThrowsInvalidData() =>
        StringAssert.Contains(Rejected(File("{" + Entry("w" + Marker) + "}")), "UTF-8");

    [TestMethod]
    public void Load_InvalidUtf8InMetadataValue_ThrowsInvalidData() =>
        StringAssert.Contains(Rejected(File("{\"__metadata__\":{\"format\":\"pt" + Marker + "\"}," + Entry("w") + "}")), "UTF-8");

    [TestMethod]
    public void Load_InvalidUtf8InDtype_ThrowsInvalidData() =>
        StringAssert.Contains(Rejected(File("{" + Entry("w", "F3" + Marker) + "}")), "UTF-8");

    [TestMethod]
    public void Load_DuplicateTensorName_ThrowsInvalidDataNamingIt()
    {
        string message = Rejected(File("{" + Entry("w") + "," + Entry("w", begin: 4) + "}", tensors: 2));
        StringAssert.Contains(message, "'w'");
        StringAssert.Contains(message, "twice");
    }

    [TestMethod]
    public void Load_DuplicateMetadataOrField_ThrowsInvalidData()
    {
        StringAssert.Contains(Rejected(File("{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}," + Entry("w") + "}")), "twice");
        StringAssert.Contains(Rejected(File("{\"__metadata__\":{},\"__metadata__\":{}," + Entry("w") + "}")), "twice");
        StringAssert.Contains(Rejected(File("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,4]}}")), "twice");
    }

    [TestMethod]
    public void ReadMetadata_ValidFile_ReadsIt()
    {
        // The control: the same construction without a fault loads.
        string path = Path.Combine(Path.GetTempPath(), $"valid-{Guid.NewGuid():N}.safetensors");
        try
        {
            System.IO.File.WriteAllBytes(path, File("{\"__metadata__\":{\"format\":\"pt\"}," + Entry("w") + "}"));
            Assert.AreEqual("pt", SafeTensors.ReadMetadata(path)["format"]);
            CollectionAssert.AreEqual(new[] { 0f }, SafeTensors.Load<float>(path)["w"].ToArray());
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }
}
