using DeformEngine.NN;

namespace DeformEngine.Optim;

public sealed partial class Sgd<T>
{
    private readonly Dictionary<Parameter<T>, Tensor<T>> _deviceMomentumBuffers = new(ReferenceEqualityComparer.Instance);

    /// <summary>The CPU update, operation for operation, as device primitives on the parameter's storage.</summary>
    protected override void UpdateOnDevice(Parameter<T> parameter, Tensor<T> grad, double learningRate, double weightDecay)
    {
        var device = parameter.Value.Device;
        var p = parameter.Value.Buffer!;
        long count = parameter.Numel;
        T lr = T.CreateChecked(learningRate), decay = T.CreateChecked(weightDecay);
        T mu = T.CreateChecked(Momentum), undamped = T.One - T.CreateChecked(Dampening);
        using var g = device.Allocate<T>(count);
        using var scratch = device.Allocate<T>(count);
        // g = ∇ + λ·p
        device.Scalar(DeviceScalarOp.Mul, p, decay, g, count);
        device.Binary<T>(DeviceBinaryOp.Add, grad.Buffer!, g, g, count);
        if (Momentum != 0)
        {
            if (_momentumBuffers.Remove(parameter, out var hostBuffer))
                _deviceMomentumBuffers[parameter] = Tensor<T>.Wrap(hostBuffer, parameter.Shape).To(device).Detach();
            if (!_deviceMomentumBuffers.TryGetValue(parameter, out var momentum))
            {
                // NOTE: the first step stores g undamped, as PyTorch does.
                momentum = Uninitialized(device, parameter.Shape);
                device.Copy<T>(g, momentum.Buffer!, count);
                _deviceMomentumBuffers.Add(parameter, momentum);
            }
            else
            {
                var b = momentum.Buffer!;
                device.Scalar(DeviceScalarOp.Mul, b, mu, b, count);
                device.Scalar(DeviceScalarOp.Mul, g, undamped, scratch, count);
                device.Binary<T>(DeviceBinaryOp.Add, b, scratch, b, count);
            }
            if (Nesterov)
            {
                device.Scalar(DeviceScalarOp.Mul, momentum.Buffer!, mu, scratch, count);
                device.Binary<T>(DeviceBinaryOp.Add, g, scratch, g, count);
            }
            else
            {
                device.Copy<T>(momentum.Buffer!, g, count);
            }
        }
        device.Scalar(DeviceScalarOp.Mul, g, lr, g, count);
        device.Binary<T>(DeviceBinaryOp.Sub, p, g, p, count);
    }
}
