using DeformEngine.NN;
using DeformEngine.Optim;
using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Gpu;

/// <summary>NN modules and optimizers on a device (<see cref="Module{T}.To"/>, the optimizers' device
/// updates) against the same model on the CPU.</summary>
[TestClass]
public class GpuModuleTests
{
    // Three steps compound the float rounding differences of every forward, backward and update.
    private const double FloatTolerance = 1e-4;

    private static readonly int[] Labels = [0, 2, 1, 2];

    // No bias before BatchNorm: its gradient is rounding noise, which Adam's normalised step amplifies
    // to ±lr, so no two implementations agree on it.
    private static Sequential<float> Model() =>
        new(new Conv2d<float>(2, 4, 3, padding: 1, bias: false, random: new SeededRandom(11)),
            new BatchNorm2d<float>(4),
            new ReLU<float>(),
            new DeformConv2d<float>(4, 6, modulation: true, bias: true, random: new SeededRandom(12)),
            new AdaptiveAvgPool2d<float>(1),
            new Flatten<float>(),
            new Linear<float>(6, 3, random: new SeededRandom(13)));

    /// <summary>The state (parameters and running statistics, on the CPU) after three steps.</summary>
    /// <param name="cpuSteps">Steps taken on the CPU before the model (and the optimizer's state with it) moves.</param>
    private static Tensor<float>[] Train(Device device, Func<IEnumerable<Parameter<float>>, Optimizer<float>> makeOptimizer, int cpuSteps = 0)
    {
        var model = Model();
        var optimizer = makeOptimizer(model.Parameters());
        var input = Tensor<float>.Randn(21, 4, 2, 6, 6);
        for (int step = 0; step < 3; step++)
        {
            if (step == cpuSteps)
            {
                model.To(device);
                input = input.To(device);
            }
            optimizer.ZeroGrad();
            Functional.CrossEntropy(model.Forward(input), Labels).Backward();
            optimizer.Step();
        }
        foreach (var parameter in model.Parameters())
        {
            Assert.AreSame(device, parameter.Value.Device, "parameters stay on the device");
            Assert.IsTrue(parameter.Value.IsLeaf && parameter.Value.RequiresGrad, "parameters stay leaves requiring a gradient");
        }
        return [.. model.StateDict().Values.Select(t => t.To(Device.Cpu))];
    }

    private static void AssertTrainingMatchesCpu(string backend, Func<IEnumerable<Parameter<float>>, Optimizer<float>> makeOptimizer, string what)
    {
        var device = GpuTestDevices.Shared<float>(backend);
        var cpu = Train(Device.Cpu, makeOptimizer);
        var gpu = Train(device, makeOptimizer);
        var names = Model().StateDict().Keys.ToArray();
        BackendRuns.AssertClose(cpu, gpu, names, FloatTolerance, $"{backend} {what}");
        var initial = Model().StateDict();
        Assert.IsFalse(cpu[0].ToArray().SequenceEqual(initial["0.weight"].ToArray()), "the steps changed the weights");
    }

    [TestMethod]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void ModuleTo_SgdMomentumThreeSteps_MatchesCpu(string backend) =>
        AssertTrainingMatchesCpu(backend, p => new Sgd<float>(p, 0.1, momentum: 0.9, weightDecay: 1e-3), "SGD with momentum");

    [TestMethod]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void ModuleTo_AdamThreeSteps_MatchesCpu(string backend) =>
        AssertTrainingMatchesCpu(backend, p => new Adam<float>(p, 0.01, weightDecay: 1e-3), "Adam");

    [TestMethod]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void ModuleTo_AdamWThreeSteps_MatchesCpu(string backend) =>
        AssertTrainingMatchesCpu(backend, p => new AdamW<float>(p, 0.01), "AdamW");

    [TestMethod]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void ModuleTo_AfterCpuSteps_OptimizerStateMovesAlong(string backend)
    {
        var device = GpuTestDevices.Shared<float>(backend);
        Func<IEnumerable<Parameter<float>>, Optimizer<float>>[] optimizers =
            [p => new Sgd<float>(p, 0.1, momentum: 0.9), p => new Adam<float>(p, 0.01, weightDecay: 1e-3)];
        var names = Model().StateDict().Keys.ToArray();
        foreach (var makeOptimizer in optimizers)
            BackendRuns.AssertClose(Train(Device.Cpu, makeOptimizer), Train(device, makeOptimizer, cpuSteps: 1), names, FloatTolerance,
                $"{backend} {makeOptimizer([new Parameter<float>(Tensor<float>.Zeros(1))]).GetType().Name} moved after a CPU step");
    }

    [TestMethod]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void ModuleTo_MovesParametersAndBuffers_StateDictRoundTrips(string backend)
    {
        var device = GpuTestDevices.Shared<float>(backend);
        var reference = Model();
        var model = Model().To(device);
        var batchNorm = (BatchNorm2d<float>)model.NamedChildren().First(c => c.Name == "1").Module;
        Assert.AreSame(device, batchNorm.RunningMean!.Device, "buffers move");
        Assert.AreSame(device, model.Device);

        var state = model.StateDict();
        CollectionAssert.AreEqual(reference.StateDict().Keys.ToArray(), state.Keys.ToArray(), "names are kept");
        foreach (var (name, tensor) in state)
        {
            Assert.AreSame(device, tensor.Device, $"{name}: the state of a device module is on the device");
            CollectionAssert.AreEqual(reference.StateDict()[name].ToArray(), tensor.ToArray(), $"{name}: values are kept");
        }

        // A CPU state loads onto the device module, a device state onto a CPU module.
        var perturbed = reference.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.AddScalar(0.5f));
        model.LoadStateDict(perturbed);
        foreach (var (name, tensor) in model.StateDict())
        {
            Assert.AreSame(device, tensor.Device, $"{name}: loading keeps the device");
            CollectionAssert.AreEqual(perturbed[name].ToArray(), tensor.ToArray(), $"{name}: loaded onto the device");
        }
        var back = Model();
        back.LoadStateDict(model.StateDict());
        foreach (var (name, tensor) in back.StateDict())
            CollectionAssert.AreEqual(perturbed[name].ToArray(), tensor.ToArray(), $"{name}: device state loaded onto the CPU");

        var cpuAgain = model.To(Device.Cpu);
        foreach (var (name, tensor) in cpuAgain.StateDict())
        {
            Assert.IsTrue(tensor.Device.IsCpu, $"{name}: moved back");
            CollectionAssert.AreEqual(perturbed[name].ToArray(), tensor.ToArray(), $"{name}: values survive the round trip");
        }
    }

    [TestMethod]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void DeviceModule_CpuInput_ThrowsNamingArgument(string backend)
    {
        var device = GpuTestDevices.Shared<float>(backend);
        var model = Model().To(device);
        var input = Tensor<float>.Randn(22, 2, 2, 6, 6);
        var error = Assert.ThrowsExactly<ArgumentException>(() => model.Forward(input));
        Assert.IsFalse(string.IsNullOrEmpty(error.ParamName), "the exception names the argument");
        StringAssert.Contains(error.Message, error.ParamName);
    }
}
