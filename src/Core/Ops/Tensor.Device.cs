namespace DeformEngine;

/// <summary>The device side of the Core tensor operations: each op that a device can run
/// dispatches here when its data is not on the CPU, and records the same backward as on the CPU.</summary>
public sealed partial class Tensor<T>
{
    /// <summary>Uninitialised storage for a tensor of <paramref name="shape"/> on <paramref name="device"/>.</summary>
    internal static Tensor<T> Uninitialized(Device device, params int[] shape) =>
        new(device.Allocate<T>(ShapeMath.Numel(shape)), (int[])shape.Clone());

    /// <summary>A tensor of zeros on <paramref name="device"/> (CPU included).</summary>
    internal static Tensor<T> ZerosOn(Device device, params int[] shape)
    {
        if (device.IsCpu) return Zeros(shape);
        var result = Uninitialized(device, shape);
        device.Fill(result._buffer!, T.Zero, result.Numel);
        return result;
    }

    private bool IsOnDevice => _buffer is not null;

    private static void RequireSameDevice(Tensor<T> a, Tensor<T> b, string argumentName)
    {
        if (!ReferenceEquals(a.Device, b.Device))
            throw new ArgumentException(
                $"{argumentName}: expected a tensor on '{a.Device.Name}', got one on '{b.Device.Name}'.", argumentName);
    }

    private static Tensor<T> DeviceBinary(Tensor<T> a, Tensor<T> b, int[] shape, BinaryOp op)
    {
        RequireSameDevice(a, b, "other");
        var deviceOp = op switch
        {
            BinaryOp.Add => DeviceBinaryOp.Add,
            BinaryOp.Sub => DeviceBinaryOp.Sub,
            BinaryOp.Mul => DeviceBinaryOp.Mul,
            _ => DeviceBinaryOp.Div,
        };
        bool sameShapes = a._shape.AsSpan().SequenceEqual(b._shape);
        return sameShapes ? a.DeviceBinary(deviceOp, b, shape) : DeviceBroadcastBinary(a, b, shape, deviceOp);
    }

    private Tensor<T> DeviceBinary(DeviceBinaryOp op, Tensor<T> other, int[] shape)
    {
        var result = Uninitialized(Device, shape);
        Device.Binary<T>(op, _buffer!, other._buffer!, result._buffer!, Numel);
        return result;
    }

    private Tensor<T> DeviceUnary(DeviceUnaryOp op)
    {
        var result = Uninitialized(Device, _shape);
        Device.Unary<T>(op, _buffer!, result._buffer!, Numel);
        return result;
    }

    private Tensor<T> DeviceUnary(string name) =>
        Enum.TryParse<DeviceUnaryOp>(name, out var op) ? DeviceUnary(op) : throw Device.Unsupported(name);

    private Tensor<T> DeviceScalar(DeviceScalarOp op, T value)
    {
        var result = Uninitialized(Device, _shape);
        Device.Scalar(op, _buffer!, value, result._buffer!, Numel);
        return result;
    }

    private Tensor<T> DeviceSum()
    {
        var result = Uninitialized(Device);
        Device.Sum<T>(_buffer!, Numel, result._buffer!);
        return result;
    }

    /// <summary>A tensor of <paramref name="shape"/> filled with this one-element tensor's value.</summary>
    private Tensor<T> DeviceBroadcastFirst(int[] shape)
    {
        var result = Uninitialized(Device, shape);
        Device.FillFromFirst<T>(_buffer!, result._buffer!, result.Numel);
        return result;
    }

    private Tensor<T> DeviceClone()
    {
        var result = Uninitialized(Device, _shape);
        Device.Copy<T>(_buffer!, result._buffer!, Numel);
        return result;
    }

    private void DeviceAddInPlace(Tensor<T> other)
    {
        RequireSameDevice(this, other, nameof(other));
        Device.Binary<T>(DeviceBinaryOp.Add, _buffer!, other._buffer!, _buffer!, Numel);
    }
}
