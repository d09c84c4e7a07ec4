using DeformEngine;
using DeformEngine.NN;

namespace DeformEngine.Examples.DeformedFashion;

internal enum Deformable { None, V1, V2 }

/// <summary>A small CNN for 28×28 images: conv1 (1→8) at 28×28, max pool, conv2 (8→16) at 14×14,
/// max pool, conv3 (16→32) at 7×7, global average pool, fc. Each 3×3 convolution is followed by
/// BatchNorm and ReLU. With DCN, conv2 and conv3 become <see cref="DeformConv2d{T}"/> (v1 or v2);
/// built from the same seed, every variant starts from the same main weights. State names:
/// conv1.weight, bn1.*, conv2.weight, conv2.conv_offset.weight/bias, …, fc.weight/bias.</summary>
internal sealed class FashionNet : Module<float>
{
    private readonly Module<float> _conv1, _conv2, _conv3;
    private readonly BatchNorm2d<float> _bn1, _bn2, _bn3;
    private readonly Linear<float> _fc;

    public FashionNet(Deformable deformable, int classes, long seed)
    {
        var random = new SeededRandom(seed);
        Deformable = deformable;
        _conv1 = RegisterModule("conv1", new Conv2d<float>(1, 8, 3, padding: 1, bias: false, random: random));
        _bn1 = RegisterModule("bn1", new BatchNorm2d<float>(8));
        _conv2 = RegisterModule("conv2", Conv3x3(8, 16, random));
        _bn2 = RegisterModule("bn2", new BatchNorm2d<float>(16));
        _conv3 = RegisterModule("conv3", Conv3x3(16, 32, random));
        _bn3 = RegisterModule("bn3", new BatchNorm2d<float>(32));
        _fc = RegisterModule("fc", new Linear<float>(32, classes, random: random));
    }

    public Deformable Deformable { get; }

    public string Name => Deformable switch
    {
        Deformable.None => "plain CNN",
        Deformable.V1 => "DCNv1 (conv2, conv3)",
        _ => "DCNv2 (conv2, conv3)",
    };

    public IEnumerable<(string Name, DeformConv2d<float> Layer)> DeformableLayers =>
        NamedModules().Where(m => m.Module is DeformConv2d<float>).Select(m => (m.Name, (DeformConv2d<float>)m.Module));

    private Module<float> Conv3x3(int inChannels, int outChannels, SeededRandom random) => Deformable == Deformable.None
        ? new Conv2d<float>(inChannels, outChannels, 3, padding: 1, bias: false, random: random)
        : new DeformConv2d<float>(inChannels, outChannels, 3, padding: 1, modulation: Deformable == Deformable.V2, random: random);

    public override Tensor<float> Forward(Tensor<float> input)
    {
        var x = Functional.MaxPool2d(_bn1.Forward(_conv1.Forward(input)).Relu(), (2, 2));
        x = Functional.MaxPool2d(_bn2.Forward(_conv2.Forward(x)).Relu(), (2, 2));
        x = _bn3.Forward(_conv3.Forward(x)).Relu();
        return _fc.Forward(Functional.AdaptiveAvgPool2d(x, (1, 1)).Flatten(1));
    }
}
