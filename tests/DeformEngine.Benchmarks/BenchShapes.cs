using System.Numerics;

namespace DeformEngine.Benchmarks;

/// <summary>One DeformConv2d benchmark shape: 3×3 kernel, padding 1, stride 1, mask and bias.</summary>
public readonly record struct BenchShape(string Name, int N, int C, int O, int H, int W)
{
    /// <summary>Rows of the operator's column matrix: output positions of the whole batch.</summary>
    public int Rows => N * H * W;

    /// <summary>Depth of the products: C·kh·kw.</summary>
    public int Depth => C * 9;

    public override string ToString() => Name;
}

public static class BenchShapes
{
    /// <summary>The three batched shapes of tests/Benchmarks/torchvision_bench.py (the first is bound by
    /// sampling, the other two by the GEMM), then the two single-image shapes of the ONNX Runtime
    /// comparison, then a ResNet's last stage (7×7, where DCNv2 replaces the 3×3 convolutions) on one and two
    /// images: 49 and 98 positions end in a partial GEMM panel of 1 and 2 columns.</summary>
    public static readonly BenchShape[] All =
    [
        new("N8 C64->64 56x56", 8, 64, 64, 56, 56),
        new("N4 C256->256 28x28", 4, 256, 256, 28, 28),
        new("N2 C512->512 14x14", 2, 512, 512, 14, 14),
        new("N1 C64->64 56x56", 1, 64, 64, 56, 56),
        new("N1 C256->256 28x28", 1, 256, 256, 28, 28),
        new("N1 C512->512 7x7", 1, 512, 512, 7, 7),
        new("N2 C512->512 7x7", 2, 512, 512, 7, 7),
    ];

    /// <summary>The batched shapes compare.sh runs against torchvision.</summary>
    public static ReadOnlySpan<BenchShape> Batched => All.AsSpan(0, 3);

    /// <summary>Shapes by 1-based index from a list like "1,3,5"; "all" or empty for every shape.</summary>
    public static BenchShape[] Parse(string? list)
    {
        if (string.IsNullOrEmpty(list) || list == "all")
            return All;
        return list.Split(',').Select(s =>
        {
            int index = int.Parse(s);
            if (index < 1 || index > All.Length)
                throw new ArgumentOutOfRangeException(nameof(list), index, $"shape indices run from 1 to {All.Length}");
            return All[index - 1];
        }).ToArray();
    }
}

/// <summary>A shape's operator inputs as every benchmark makes them (seeds 1–6): input ~ N(0, 1), offsets ~ 2·N(0, 1),
/// mask ~ U(0, 1), weight ~ N(0, 1)/√(C·9), bias ~ N(0, 1), and an upstream gradient ~ N(0, 1) for the backward.</summary>
public sealed record BenchInputs<T>(Tensor<T> Input, Tensor<T> Offset, Tensor<T> Mask, Tensor<T> Weight, Tensor<T> Bias, Tensor<T> Grad)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public static BenchInputs<T> For(BenchShape shape) => new(
        Tensor<T>.Randn(1, shape.N, shape.C, shape.H, shape.W),
        Tensor<T>.Randn(2, shape.N, 18, shape.H, shape.W).MulScalar(T.CreateTruncating(2)),
        Tensor<T>.Rand(3, shape.N, 9, shape.H, shape.W),
        Tensor<T>.Randn(4, shape.O, shape.C, 3, 3).MulScalar(T.One / T.Sqrt(T.CreateTruncating(shape.Depth))),
        Tensor<T>.Randn(5, shape.O),
        Tensor<T>.Randn(6, shape.N, shape.O, shape.H, shape.W));

    /// <summary>The inputs a backward gives gradients to.</summary>
    public Tensor<T>[] Leaves => [Input, Offset, Mask, Weight, Bias];

    /// <summary>DeformConv2d 3×3, padding 1, with mask and bias.</summary>
    public Tensor<T> Forward() => Functional.DeformConv2d(Input, Offset, Weight, Bias, padding: (1, 1), mask: Mask);

    /// <summary>Marks every leaf as requiring a gradient, for <see cref="ForwardBackward"/>.</summary>
    public void RequireGradients()
    {
        foreach (var leaf in Leaves)
            leaf.RequiresGrad = true;
    }

    /// <summary>One training step's operator work: every leaf's gradient set to none (as an optimizer's zero_grad
    /// does), then the forward and its backward seeded with <see cref="Grad"/>.</summary>
    public void ForwardBackward()
    {
        Input.Grad = Offset.Grad = Mask.Grad = Weight.Grad = Bias.Grad = null;
        Forward().Backward(Grad);
    }
}
