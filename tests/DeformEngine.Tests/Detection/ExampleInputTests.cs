using System.Buffers.Binary;
using System.IO.Compression;
using DeformEngine.Examples;
using DeformEngine.Examples.DeformableRoIPooling;

namespace DeformEngine.Tests.Detection;

/// <summary>What the training examples share (examples/Shared): reading Fashion-MNIST's IDX files, the bilinear
/// read of a 28×28 picture, and the command line.</summary>
[TestClass]
public class ExampleInputTests
{
    private readonly List<string> _directories = [];

    [TestCleanup]
    public void RemoveDirectories()
    {
        foreach (string directory in _directories)
            Directory.Delete(directory, recursive: true);
    }

    [TestMethod]
    public void FashionMnistIdx_ReadsPixelsAndLabels_WrittenInIdxFormat()
    {
        string directory = TempDirectory();
        var pixels = new byte[3 * 28 * 28];
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = (byte)(i * 7 % 256);
        WriteSet(directory, "t10k", 3, pixels, [9, 0, 4]);

        var (values, labels) = FashionMnistIdx.Read(directory, "t10k");

        CollectionAssert.AreEqual(new[] { 9, 0, 4 }, labels);
        Assert.HasCount(pixels.Length, values);
        for (int i = 0; i < pixels.Length; i++)
            Assert.AreEqual(pixels[i] / 255f, values[i], $"pixel {i}");
        Assert.IsFalse(FashionMnistIdx.IsPresent(directory), "the training files are missing");
        WriteSet(directory, "train", 1, new byte[28 * 28], [1]);
        Assert.IsTrue(FashionMnistIdx.IsPresent(directory));
    }

    [TestMethod]
    public void FashionMnistIdx_BadFiles_ClearErrors()
    {
        string directory = TempDirectory();
        // The labels' magic number where the images' should be.
        WriteFile(Path.Combine(directory, "t10k-images-idx3-ubyte.gz"), Header(0x0801, 1, 28, 28, new byte[28 * 28]));
        WriteFile(Path.Combine(directory, "t10k-labels-idx1-ubyte.gz"), Header(0x0801, 1, null, null, [2]));
        var error = Assert.ThrowsExactly<InvalidDataException>(() => FashionMnistIdx.Read(directory, "t10k"));
        StringAssert.Contains(error.Message, "t10k images: not an IDX file");

        // Images of 32×32, and fewer bytes than the header promises.
        WriteFile(Path.Combine(directory, "t10k-images-idx3-ubyte.gz"), Header(0x0803, 1, 32, 32, new byte[32 * 32]));
        error = Assert.ThrowsExactly<InvalidDataException>(() => FashionMnistIdx.Read(directory, "t10k"));
        StringAssert.Contains(error.Message, "1 images of 32×32");
        WriteFile(Path.Combine(directory, "t10k-images-idx3-ubyte.gz"), Header(0x0803, 2, 28, 28, new byte[28 * 28]));
        WriteFile(Path.Combine(directory, "t10k-labels-idx1-ubyte.gz"), Header(0x0801, 2, null, null, [2, 3]));
        error = Assert.ThrowsExactly<InvalidDataException>(() => FashionMnistIdx.Read(directory, "t10k"));
        StringAssert.Contains(error.Message, "unexpected IDX sizes (2 images");

        // A header cut short.
        WriteFile(Path.Combine(directory, "t10k-images-idx3-ubyte.gz"), Header(0x0803, 2, null, null, []));
        error = Assert.ThrowsExactly<InvalidDataException>(() => FashionMnistIdx.Read(directory, "t10k"));
        StringAssert.Contains(error.Message, "cut short");
    }

    [TestMethod]
    public void Bilinear_PixelsCornersAndOutside()
    {
        var picture = new float[28 * 28];
        picture[5 * 28 + 7] = 1f;
        picture[5 * 28 + 8] = 3f;
        picture[6 * 28 + 7] = 5f;
        picture[6 * 28 + 8] = 7f;
        Assert.AreEqual(1f, FashionMnistIdx.Bilinear(picture, 5, 7));
        Assert.AreEqual(2f, FashionMnistIdx.Bilinear(picture, 5, 7.5), 1e-6f);
        Assert.AreEqual(4f, FashionMnistIdx.Bilinear(picture, 5.5, 7.5), 1e-6f);
        // (1 − 0.25)(1 − 0.75)·1 + (1 − 0.25)·0.75·3 + 0.25·(1 − 0.75)·5 + 0.25·0.75·7
        Assert.AreEqual(0.1875f + 1.6875f + 0.3125f + 1.3125f, FashionMnistIdx.Bilinear(picture, 5.25, 7.75), 1e-6f);
        picture[27 * 28 + 27] = 8f;
        Assert.AreEqual(4f, FashionMnistIdx.Bilinear(picture, 27, 27.5), 1e-6f, "the corner beyond the edge reads 0");
        Assert.AreEqual(0f, FashionMnistIdx.Bilinear(picture, -3, 40));
    }

    [TestMethod]
    public void CommandLine_ParsesFlags_AndNamesTheFlagOfEveryMistake()
    {
        var options = Options.Parse(new CommandLine(["--train", "20", "--lr", "0.5", "--seed", "-4", "--no-mimic", "--out", "x"]));
        Assert.AreEqual(20, options.Train);
        Assert.AreEqual(0.5, options.LearningRate);
        Assert.AreEqual(-4L, options.Seed);
        Assert.IsTrue(options.NoMimic);
        Assert.AreEqual("x", options.Out);

        (string[] Args, string Message)[] mistakes =
        [
            (["--train"], "--train needs a value."),
            (["--train", "0"], "--train needs a positive integer, got '0'."),
            (["--epochs", "two"], "--epochs needs a positive integer, got 'two'."),
            (["--lr", "-1"], "--lr needs a non-negative number, got '-1'."),
            (["--seed", "abc"], "--seed needs an integer, got 'abc'."),
            (["--what"], "unknown option '--what'."),
        ];
        foreach (var (args, message) in mistakes)
            Assert.AreEqual(message, Assert.ThrowsExactly<ArgumentException>(() => Options.Parse(new CommandLine(args))).Message);
    }

    [TestMethod]
    [DoNotParallelize] // swaps the process's Console.Out and Console.Error
    public void CommandLine_TryParse_HelpAndMistakes_GiveTheExitCode()
    {
        var output = Console.Out;
        var errors = Console.Error;
        try
        {
            Console.SetOut(new StringWriter());
            Console.SetError(new StringWriter());
            Assert.IsFalse(CommandLine.TryParse(["-h"], "usage", Options.Parse, out var options, out int exitCode));
            Assert.AreEqual(0, exitCode);
            Assert.IsNull(options);
            Assert.IsFalse(CommandLine.TryParse(["--batch", "x"], "usage", Options.Parse, out options, out exitCode));
            Assert.AreEqual(2, exitCode);
            Assert.IsTrue(CommandLine.TryParse(["--batch", "4"], "usage", Options.Parse, out options, out exitCode));
            Assert.AreEqual(4, options.BatchSize);
        }
        finally
        {
            Console.SetOut(output);
            Console.SetError(errors);
        }
    }

    private string TempDirectory()
    {
        string directory = Path.Combine(Path.GetTempPath(), "deformengine-idx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        _directories.Add(directory);
        return directory;
    }

    private static void WriteSet(string directory, string prefix, int count, byte[] pixels, byte[] labels)
    {
        WriteFile(Path.Combine(directory, $"{prefix}-images-idx3-ubyte.gz"), Header(0x0803, count, 28, 28, pixels));
        WriteFile(Path.Combine(directory, $"{prefix}-labels-idx1-ubyte.gz"), Header(0x0801, count, null, null, labels));
    }

    /// <summary>An IDX file: magic, count, then rows and columns for images, then the bytes.</summary>
    private static byte[] Header(int magic, int count, int? rows, int? columns, byte[] data)
    {
        var header = new List<int> { magic, count };
        if (rows is { } r && columns is { } c)
            header.AddRange([r, c]);
        var bytes = new byte[header.Count * 4 + data.Length];
        for (int i = 0; i < header.Count; i++)
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(i * 4), header[i]);
        data.CopyTo(bytes, header.Count * 4);
        return bytes;
    }

    private static void WriteFile(string path, byte[] content)
    {
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(content);
    }
}
