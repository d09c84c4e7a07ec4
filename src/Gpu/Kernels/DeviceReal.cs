using ILGPU;

namespace DeformEngine.Gpu.Kernels;

/// <summary>
/// What a kernel needs of its precision beyond generic math. ILGPU compiles generic operators (<c>+</c>, <c>&lt;</c>,
/// <c>T.Zero</c>, <c>T.One</c>) but not the generic conversions (<c>T.CreateTruncating</c> asks for
/// <c>System.Type</c>, which has no GPU form), and its atomic add has no generic overload; kernels therefore take
/// a second type parameter R, <see cref="SingleReal"/> or <see cref="DoubleReal"/>, and call these through it.
/// The math goes through <see cref="Math"/>/<see cref="MathF"/>, which ILGPU maps to its GPU implementations
/// (the context enables ILGPU.Algorithms for the ones without a native instruction).
/// </summary>
internal interface IDeviceReal<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static abstract T FromInt(int value);

    static abstract T FromLong(long value);

    /// <summary>Truncation toward zero, as a C cast.</summary>
    static abstract int ToInt(T value);

    /// <summary>Truncation toward zero, as a C cast.</summary>
    static abstract long ToLong(T value);

    static abstract bool IsNaN(T x);

    static abstract T Floor(T x);

    static abstract T Abs(T x);

    static abstract T Exp(T x);

    static abstract T Log(T x);

    static abstract T Sqrt(T x);

    static abstract T Tanh(T x);

    static abstract T Pow(T x, T y);

    /// <summary>cell += value, atomically (the order of concurrent adds is the device's).</summary>
    static abstract void AtomicAdd(ref T cell, T value);
}

/// <summary>float.</summary>
internal readonly struct SingleReal : IDeviceReal<float>
{
    public static float FromInt(int value) => value;

    public static float FromLong(long value) => value;

    public static int ToInt(float value) => (int)value;

    public static long ToLong(float value) => (long)value;

    public static bool IsNaN(float x) => float.IsNaN(x);

    public static float Floor(float x) => MathF.Floor(x);

    public static float Abs(float x) => MathF.Abs(x);

    public static float Exp(float x) => MathF.Exp(x);

    public static float Log(float x) => MathF.Log(x);

    public static float Sqrt(float x) => MathF.Sqrt(x);

    public static float Tanh(float x) => MathF.Tanh(x);

    public static float Pow(float x, float y) => MathF.Pow(x, y);

    public static void AtomicAdd(ref float cell, float value) => Atomic.Add(ref cell, value);
}

/// <summary>double.</summary>
internal readonly struct DoubleReal : IDeviceReal<double>
{
    public static double FromInt(int value) => value;

    public static double FromLong(long value) => value;

    public static int ToInt(double value) => (int)value;

    public static long ToLong(double value) => (long)value;

    public static bool IsNaN(double x) => double.IsNaN(x);

    public static double Floor(double x) => Math.Floor(x);

    public static double Abs(double x) => Math.Abs(x);

    public static double Exp(double x) => Math.Exp(x);

    public static double Log(double x) => Math.Log(x);

    public static double Sqrt(double x) => Math.Sqrt(x);

    public static double Tanh(double x) => Math.Tanh(x);

    public static double Pow(double x, double y) => Math.Pow(x, y);

    public static void AtomicAdd(ref double cell, double value) => Atomic.Add(ref cell, value);
}

/// <summary>The <see cref="IDeviceReal{T}"/> of an element type, for instantiating kernels.</summary>
internal static class DeviceReal
{
    public static Type For(Type element) =>
        element == typeof(float) ? typeof(SingleReal)
        : element == typeof(double) ? typeof(DoubleReal)
        : throw new NotSupportedException($"Kernels run on float or double, not {element.Name}.");
}

/// <summary>The grid-stride loop every kernel runs: item i, i + threads, … for i = the thread's global index, so a
/// launch of any size covers any count (past 2^31 too) and the CPU accelerator runs few, long-lived threads.</summary>
internal static class GridLoop
{
    public static long First => Grid.GlobalIndex.X;

    public static long Stride => (long)Grid.DimX * Group.DimX;
}
