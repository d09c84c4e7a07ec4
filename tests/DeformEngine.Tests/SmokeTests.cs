namespace DeformEngine.Tests;

[TestClass]
public class SmokeTests
{
    [TestMethod]
    public void Composite_GradCheck_Passes()
    {
        var x = Tensor<double>.Randn(1, 3, 4);
        var w = Tensor<double>.Randn(2, 4, 5);
        var b = Tensor<double>.Randn(3, 1, 5);
        var result = GradCheck.Check(t => t[0].MatMul(t[1]).Add(t[2]).Tanh().Mul(t[0].Sum(1, keepDim: true)).LogSoftmax(1).Sum(),
            [x, w, b], names: ["x", "w", "b"]);
        Console.WriteLine(result);
        Assert.IsTrue(result.Passed, result.ToString());
    }
}
