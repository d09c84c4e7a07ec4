namespace DeformEngine.Tests;
[TestClass]
public class SmokeTests { [TestMethod] public void Smoke_Runs_True() => Assert.IsTrue(true); }
