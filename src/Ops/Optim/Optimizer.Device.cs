using DeformEngine.NN;

namespace DeformEngine.Optim;

public abstract partial class Optimizer<T>
{
    private void Dispatch(Parameter<T> parameter, Tensor<T> grad, double learningRate, double weightDecay)
    {
        var device = parameter.Value.Device;
        if (!ReferenceEquals(grad.Device, device))
            throw new InvalidOperationException(
                $"{GetType().Name}: a parameter of shape {ShapeMath.Format(parameter.Shape)} lives on '{device.Name}' but its gradient on '{grad.Device.Name}'.");
        if (device.IsCpu) Update(parameter, grad.AsSpan(), learningRate, weightDecay);
        else UpdateOnDevice(parameter, grad, learningRate, weightDecay);
    }

    /// <summary>The update of a parameter that lives on a non-CPU device, with <paramref name="grad"/>
    /// on the same device, run with the device's primitives. An optimizer without one throws rather
    /// than copying the parameter to the host and back.</summary>
    protected virtual void UpdateOnDevice(Parameter<T> parameter, Tensor<T> grad, double learningRate, double weightDecay) =>
        throw new NotSupportedException(
            $"{GetType().Name}: updating parameters on device '{parameter.Value.Device.Name}' is not supported; move the module to the CPU.");

    /// <summary>A device tensor of <paramref name="shape"/> with unspecified contents, for optimizer state and scratch.</summary>
    private protected static Tensor<T> Uninitialized(Device device, int[] shape) =>
        new(device.Allocate<T>(ShapeMath.Numel(shape)), shape);
}
