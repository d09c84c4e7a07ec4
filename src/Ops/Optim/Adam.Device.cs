using DeformEngine.NN;

namespace DeformEngine.Optim;

public partial class Adam<T>
{
    private readonly Dictionary<Parameter<T>, DeviceState> _deviceStates = new(ReferenceEqualityComparer.Instance);

    /// <summary>Moments on the device; converts from and to the host state when a parameter moves.</summary>
    private sealed class DeviceState(int step, Tensor<T> firstMoment, Tensor<T> secondMoment)
    {
        public int Step = step;
        public readonly Tensor<T> FirstMoment = firstMoment;
        public readonly Tensor<T> SecondMoment = secondMoment;

        public State ToHost()
        {
            var state = new State(FirstMoment.Numel) { Step = Step };
            FirstMoment.ToArray().CopyTo(state.FirstMoment, 0);
            SecondMoment.ToArray().CopyTo(state.SecondMoment, 0);
            return state;
        }
    }

    /// <summary>The CPU update as device primitives; √v/√(1 − β₂ᵗ) becomes √v·(1/√(1 − β₂ᵗ)), a
    /// rounding-level difference.</summary>
    protected override void UpdateOnDevice(Parameter<T> parameter, Tensor<T> grad, double learningRate, double weightDecay)
    {
        var device = parameter.Value.Device;
        var shape = parameter.Shape;
        if (!_deviceStates.TryGetValue(parameter, out var state))
        {
            state = _states.Remove(parameter, out var host)
                ? new DeviceState(host.Step, Tensor<T>.Wrap(host.FirstMoment, shape).To(device).Detach(),
                    Tensor<T>.Wrap(host.SecondMoment, shape).To(device).Detach())
                : new DeviceState(0, Tensor<T>.Zeros(shape).To(device).Detach(), Tensor<T>.Zeros(shape).To(device).Detach());
            _deviceStates.Add(parameter, state);
        }
        state.Step++;
        double correction1 = 1 - Math.Pow(Beta1, state.Step);
        double correction2 = 1 - Math.Pow(Beta2, state.Step);
        T beta1 = T.CreateChecked(Beta1), beta2 = T.CreateChecked(Beta2);
        T stepSize = T.CreateChecked(learningRate / correction1);
        T inverseSqrtCorrection2 = T.One / T.CreateChecked(Math.Sqrt(correction2));
        T eps = T.CreateChecked(Eps), decay = T.CreateChecked(weightDecay);
        T shrink = T.CreateChecked(1 - learningRate * weightDecay);
        long count = parameter.Numel;
        var p = parameter.Value.Buffer!;
        var m = state.FirstMoment.Buffer!;
        var v = state.SecondMoment.Buffer!;
        using var g = device.Allocate<T>(count);
        using var scratch = device.Allocate<T>(count);
        if (DecoupledWeightDecay)
        {
            device.Scalar(DeviceScalarOp.Mul, p, shrink, p, count);
            device.Copy<T>(grad.Buffer!, g, count);
        }
        else
        {
            device.Scalar(DeviceScalarOp.Mul, p, decay, g, count);
            device.Binary<T>(DeviceBinaryOp.Add, grad.Buffer!, g, g, count);
        }
        device.Scalar(DeviceScalarOp.Mul, m, beta1, m, count);
        device.Scalar(DeviceScalarOp.Mul, g, T.One - beta1, scratch, count);
        device.Binary<T>(DeviceBinaryOp.Add, m, scratch, m, count);
        device.Scalar(DeviceScalarOp.Mul, g, T.One - beta2, scratch, count);
        device.Binary<T>(DeviceBinaryOp.Mul, scratch, g, scratch, count);
        device.Scalar(DeviceScalarOp.Mul, v, beta2, v, count);
        device.Binary<T>(DeviceBinaryOp.Add, v, scratch, v, count);
        device.Unary<T>(DeviceUnaryOp.Sqrt, v, scratch, count);
        device.Scalar(DeviceScalarOp.Mul, scratch, inverseSqrtCorrection2, scratch, count);
        device.Scalar(DeviceScalarOp.Add, scratch, eps, scratch, count);
        device.Scalar(DeviceScalarOp.Mul, m, stepSize, g, count);
        device.Binary<T>(DeviceBinaryOp.Div, g, scratch, g, count);
        device.Binary<T>(DeviceBinaryOp.Sub, p, g, p, count);
    }
}
