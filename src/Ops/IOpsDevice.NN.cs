namespace DeformEngine;

/// <summary>A 2-D pooling over [N, C, H, W] seen as <see cref="Planes"/> = N·C planes.</summary>
public readonly record struct Pool2dShape(int Planes, int Height, int Width, int OutH, int OutW,
    int KernelH = 0, int KernelW = 0, int StrideH = 1, int StrideW = 1, int PadH = 0, int PadW = 0)
{
    public long InputCount => (long)Planes * Height * Width;

    public long OutputCount => (long)Planes * OutH * OutW;
}

/// <summary>[Batch, Channels, Plane] of a <see cref="Functional.BatchNorm2d{T}"/> call.</summary>
public readonly record struct BatchNormShape(int Batch, int Channels, int Plane)
{
    public long Count => (long)Batch * Channels * Plane;
}

/// <summary>The primitives of the NN functional operators (pooling, batch normalisation, cross-entropy).
/// Int buffers (argmax, windows, targets) hold <c>int</c> elements.</summary>
public partial interface IOpsDevice
{
    /// <summary>Output and argmax (flat index in the plane) of each window.</summary>
    void MaxPool2d<T>(Pool2dShape shape, DeviceBuffer input, DeviceBuffer output, DeviceBuffer argmax)
        where T : unmanaged, IFloatingPointIeee754<T>;

    void MaxPool2dBackward<T>(Pool2dShape shape, DeviceBuffer gradOutput, DeviceBuffer argmax, DeviceBuffer gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>windows: [OutH·OutW, 6] ints (y start, y end, x start, x end, and the divisor as two factors
    /// rows · columns, multiplied in 64 bits), rows and columns
    /// separable (window (oy, ox) spans the rows of (oy, 0) and the columns of (0, ox)).</summary>
    void AvgPool<T>(Pool2dShape shape, DeviceBuffer windows, DeviceBuffer input, DeviceBuffer output)
        where T : unmanaged, IFloatingPointIeee754<T>;

    void AvgPoolBackward<T>(Pool2dShape shape, DeviceBuffer windows, DeviceBuffer gradOutput, DeviceBuffer gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Per-channel batch mean and biased variance.</summary>
    void BatchNormStatistics<T>(BatchNormShape shape, DeviceBuffer input, DeviceBuffer mean, DeviceBuffer variance)
        where T : unmanaged, IFloatingPointIeee754<T>;

    void BatchNormForward<T>(BatchNormShape shape, DeviceBuffer input, DeviceBuffer mean, DeviceBuffer variance,
        DeviceBuffer? weight, DeviceBuffer? bias, T eps, DeviceBuffer normalized, DeviceBuffer output)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>running = (1 − momentum)·running + momentum·batch, the variance times <paramref name="unbias"/>.</summary>
    void BatchNormUpdateRunning<T>(int channels, DeviceBuffer runningMean, DeviceBuffer runningVar, DeviceBuffer mean,
        DeviceBuffer variance, T momentum, T unbias)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Input, weight (Σ g·normalized) and bias (Σ g) gradients; null ones are not written.</summary>
    void BatchNormBackward<T>(BatchNormShape shape, DeviceBuffer gradOutput, DeviceBuffer normalized, DeviceBuffer variance,
        DeviceBuffer? weight, T eps, bool training, DeviceBuffer? gradInput, DeviceBuffer? gradWeight, DeviceBuffer? gradBias)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Per row: softmax probabilities and the loss logsumexp − logit of the target.</summary>
    void CrossEntropy<T>(int rows, int classes, DeviceBuffer logits, DeviceBuffer targets, DeviceBuffer probabilities,
        DeviceBuffer losses)
        where T : unmanaged, IFloatingPointIeee754<T>;

    void CrossEntropyBackward<T>(int rows, int classes, DeviceBuffer probabilities, DeviceBuffer targets,
        DeviceBuffer gradOutput, Reduction reduction, DeviceBuffer gradLogits)
        where T : unmanaged, IFloatingPointIeee754<T>;
}
