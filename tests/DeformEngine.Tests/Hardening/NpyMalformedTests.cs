using System.Buffers.Binary;
using System.Text;
using DeformEngine.IO;

namespace DeformEngine.Tests.Hardening;

/// <summary>.npy headers that a pattern search would read but NumPy would not: not a dict literal, a
/// key given twice, invalid UTF-8 in a version 3 header. Each is an <see cref="InvalidDataException"/>.</summary>
[TestClass]
public class NpyMalformedTests
{
    private static byte[] NpyFile(byte[] header, byte major, int values)
    {
        int lengthSize = major == 1 ? 2 : 4;
        using var file = new MemoryStream();
        file.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', major, 0]);
        var length = new byte[lengthSize];
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)header.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)header.Length);
        file.Write(length);
        file.Write(header);
        for (int i = 0; i < values; i++) file.Write(BitConverter.GetBytes(1.5 * i));
        return file.ToArray();
    }

    private static byte[] NpyFile(string header, byte major = 1, int values = 2) => NpyFile(Encoding.Latin1.GetBytes(header + "\n"), major, values);

    private static string Rejected(byte[] file) =>
        Assert.ThrowsExactly<InvalidDataException>(() => Npy.Load<double>(new MemoryStream(file))).Message;

    [TestMethod]
    [DataRow("'descr': '<f8', 'fortran_order': False, 'shape': (2,)", DisplayName = "no braces")]
    [DataRow("{'descr': '<f8', 'fortran_order': False, 'shape': (2,)} junk", DisplayName = "text after the dict")]
    [DataRow("[{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}]", DisplayName = "a list")]
    [DataRow("{'descr': '<f8' 'fortran_order': False, 'shape': (2,)}", DisplayName = "missing comma")]
    [DataRow("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'shape2': (3,)}", DisplayName = "extra key")]
    [DataRow("{'descr': '<f8', 'fortran_order': 0, 'shape': (2,)}", DisplayName = "fortran_order an int")]
    [DataRow("{'descr': '<f8', 'fortran_order': False, 'shape': (2)}", DisplayName = "shape (2) is an int")]
    [DataRow("{'descr': '<f8', 'fortran_order': False, 'shape': [2]}", DisplayName = "shape a list")]
    [DataRow("x = {'descr': '<f8', 'fortran_order': False, 'shape': (2,)}", DisplayName = "an assignment")]
    [DataRow("{'descr': '<f8', 'fortran_order': Falsey, 'shape': (2,)}", DisplayName = "Falsey")]
    public void Load_HeaderNotADictLiteral_ThrowsInvalidData(string header) =>
        StringAssert.StartsWith(Rejected(NpyFile(header)), "npy: ");

    [TestMethod]
    public void Load_DescrGivenTwice_ThrowsInvalidDataNamingIt()
    {
        // NumPy keeps the last value (<f4: four float32 in these 16 bytes); a reader keeping the first
        // would read two float64 instead. Neither guess is safe.
        var message = Rejected(NpyFile("{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}"));
        StringAssert.Contains(message, "'descr' twice");
    }

    [TestMethod]
    public void Load_InvalidUtf8InVersion3Header_ThrowsInvalidData()
    {
        var header = Encoding.UTF8.GetBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }   \n");
        header[^3] = 0xFF;
        StringAssert.Contains(Rejected(NpyFile(header, major: 3, values: 2)), "UTF-8");
    }

    [TestMethod]
    [DataRow("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", DisplayName = "NumPy's own form")]
    [DataRow("{\"descr\": \"<f8\", \"shape\": (2L,), \"fortran_order\": False}", DisplayName = "double quotes, Python 2 long, any key order")]
    [DataRow("  {'descr':'<f8','fortran_order':False,'shape':( 2 , )}\t\r", DisplayName = "whitespace anywhere")]
    public void Load_ValidHeaderVariants_Load(string header)
    {
        var t = Npy.Load<double>(new MemoryStream(NpyFile(header)));
        CollectionAssert.AreEqual(new[] { 2 }, t.Shape);
        CollectionAssert.AreEqual(new[] { 0.0, 1.5 }, t.ToArray());
    }

    [TestMethod]
    public void Load_Version3Utf8Header_Loads()
    {
        var header = Encoding.UTF8.GetBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }   \n");
        var t = Npy.Load<double>(new MemoryStream(NpyFile(header, major: 3, values: 2)));
        CollectionAssert.AreEqual(new[] { 0.0, 1.5 }, t.ToArray());
    }
}
