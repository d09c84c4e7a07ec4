namespace DeformEngine.NN;

public abstract partial class Module<T>
{
    /// <summary>The device of the parameters and buffers (the CPU for a module without any).</summary>
    public Device Device =>
        Parameters().Select(p => p.Value.Device).Concat(NamedBuffers().Select(b => b.Buffer.Device)).FirstOrDefault() ?? Device.Cpu;

    /// <summary>Moves every parameter (a leaf requiring a gradient, its gradient moved along) and every
    /// buffer (running statistics) of this module and its descendants to <paramref name="device"/>, as
    /// <c>torch.nn.Module.to</c>. The <see cref="Parameter{T}"/> objects stay the same, so optimizers
    /// built before still update them; tensors taken from the module before (a <see cref="StateDict"/>)
    /// keep the old storage. Returns this module.</summary>
    public Module<T> To(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        foreach (var module in Modules())
        {
            foreach (var (_, parameter) in module._parameters) parameter.MoveTo(device);
            for (int i = 0; i < module._buffers.Count; i++)
            {
                var (name, buffer) = module._buffers[i];
                if (!ReferenceEquals(buffer.Device, device)) module._buffers[i] = (name, buffer.Detach().To(device).Detach());
            }
        }
        return this;
    }

    /// <summary>This module's own buffer of that name, or null.</summary>
    protected Tensor<T>? FindBuffer(string name)
    {
        foreach (var (bufferName, buffer) in _buffers)
            if (bufferName == name) return buffer;
        return null;
    }
}
