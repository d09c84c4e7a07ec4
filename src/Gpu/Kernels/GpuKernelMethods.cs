using System.Reflection;

namespace DeformEngine.Gpu.Kernels;

/// <summary>Finds the kernel entry points of this library: the <c>public static void</c> methods, generic in the
/// element type and its <see cref="IDeviceReal{T}"/>, of the static classes whose names end in <c>GpuKernels</c>.
/// Device functions those kernels call are not public, so they are not entry points.</summary>
internal static class GpuKernelMethods
{
    private const string Suffix = "GpuKernels";

    /// <summary>Every kernel entry point, as a generic method definition.</summary>
    public static IReadOnlyList<MethodInfo> All() =>
    [
        .. from type in typeof(GpuKernelMethods).Assembly.GetTypes()
           where type.IsAbstract && type.IsSealed && type.Name.EndsWith(Suffix, StringComparison.Ordinal)
           from method in type.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly)
           where IsEntryPoint(method)
           orderby type.Name, method.Name
           select method,
    ];

    /// <summary>Kernel <paramref name="owner"/>.<paramref name="name"/> for <paramref name="element"/> (float or double).</summary>
    public static MethodInfo Instantiate(Type owner, string name, Type element)
    {
        MethodInfo definition = owner.GetMethod(name, BindingFlags.Public | BindingFlags.Static)
            ?? throw new ArgumentException($"{owner.Name} has no public kernel '{name}'.", nameof(name));
        if (!IsEntryPoint(definition))
            throw new ArgumentException($"{owner.Name}.{name} is not a kernel entry point (public static void, generic in T and R).", nameof(name));
        return Instantiate(definition, element);
    }

    public static MethodInfo Instantiate(MethodInfo definition, Type element) =>
        definition.MakeGenericMethod(element, DeviceReal.For(element));

    private static bool IsEntryPoint(MethodInfo method) =>
        method.ReturnType == typeof(void) && method.IsGenericMethodDefinition && method.GetGenericArguments().Length == 2;
}
