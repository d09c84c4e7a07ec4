using System.Numerics;

namespace DeformEngine;

/// <summary>Elementwise functions a device may run for <see cref="Tensor{T}"/>.</summary>
public enum DeviceUnaryOp
{
    Neg,
    Exp,
    Log,
    Sqrt,
    Relu,
    Sigmoid,
    Tanh,
    Abs,
    Reciprocal,
}

/// <summary>Same-shape binary functions a device may run. <see cref="ReluBackward"/> and
/// <see cref="AbsBackward"/> take the upstream gradient as the left and the op's input as the right operand.</summary>
public enum DeviceBinaryOp
{
    Add,
    Sub,
    Mul,
    Div,
    ReluBackward,
    AbsBackward,
}

/// <summary>Tensor-with-scalar functions a device may run (<see cref="Pow"/>: x to the scalar power).</summary>
public enum DeviceScalarOp
{
    Add,
    Mul,
    Pow,
}

/// <summary>The primitives the Core tensor operations need from a non-CPU device: enough for a
/// training step's loss, gradient accumulation and parameter update. A device that lacks one
/// throws <see cref="NotSupportedException"/>; nothing falls back to the CPU behind the caller's back.
/// Counts are elements; every buffer belongs to this device.</summary>
public abstract partial class Device
{
    /// <summary>destination[i] = value for i &lt; count.</summary>
    public virtual void Fill<T>(DeviceBuffer destination, T value, long count)
        where T : unmanaged, IFloatingPointIeee754<T> => throw Unsupported("Fill");

    /// <summary>destination[i] = source[0] for i &lt; count: a one-element tensor broadcast.</summary>
    public virtual void FillFromFirst<T>(DeviceBuffer source, DeviceBuffer destination, long count)
        where T : unmanaged, IFloatingPointIeee754<T> => throw Unsupported("FillFromFirst");

    /// <summary>destination[i] = source[i] for i &lt; count.</summary>
    public virtual void Copy<T>(DeviceBuffer source, DeviceBuffer destination, long count)
        where T : unmanaged, IFloatingPointIeee754<T> => throw Unsupported("Copy");

    public virtual void Unary<T>(DeviceUnaryOp op, DeviceBuffer x, DeviceBuffer result, long count)
        where T : unmanaged, IFloatingPointIeee754<T> => throw Unsupported(op.ToString());

    /// <summary>result = a op b elementwise (same shapes; result may alias a).</summary>
    public virtual void Binary<T>(DeviceBinaryOp op, DeviceBuffer a, DeviceBuffer b, DeviceBuffer result, long count)
        where T : unmanaged, IFloatingPointIeee754<T> => throw Unsupported(op.ToString());

    public virtual void Scalar<T>(DeviceScalarOp op, DeviceBuffer x, T value, DeviceBuffer result, long count)
        where T : unmanaged, IFloatingPointIeee754<T> => throw Unsupported(op + "Scalar");

    /// <summary>result[0] = Σ x[i] for i &lt; count.</summary>
    public virtual void Sum<T>(DeviceBuffer x, long count, DeviceBuffer result)
        where T : unmanaged, IFloatingPointIeee754<T> => throw Unsupported("Sum");

    /// <summary>The exception for an operation this device does not implement.</summary>
    public NotSupportedException Unsupported(string operation) =>
        new($"{operation} is not implemented on device '{Name}'; move the tensors with To(Device.Cpu) to run it on the CPU.");
}
