using DeformEngine.Kernels;

namespace DeformEngine;

/// <summary>The RoI tables the device kernels read, built on the host from the checked rois in the
/// operator's precision (so both paths sample at the same coordinates) and moved to the device.</summary>
internal static class RoIDeviceTables
{
    /// <summary>[K, 9]: batch, start y, start x, height, width, bin height, bin width, grid h, grid w.</summary>
    public static Tensor<T> Windows<T>(RoIWindow<T>[] windows, Device device) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int columns = 9;
        var table = new T[windows.Length * columns];
        for (int k = 0; k < windows.Length; k++)
        {
            var w = windows[k];
            T[] row = [T.CreateTruncating(w.Batch), w.StartY, w.StartX, w.Height, w.Width, w.BinHeight, w.BinWidth,
                T.CreateTruncating(w.GridH), T.CreateTruncating(w.GridW)];
            row.CopyTo(table, k * columns);
        }
        return Tensor<T>.Wrap(table, windows.Length, columns).To(device);
    }

    /// <summary>[K, 5]: batch, start y, start x, height, width of MXNet's rounded RoIs.</summary>
    public static Tensor<T> DeformPSRois<T>(DeformPSRoIPoolGeometry<T> geometry, int rois, Device device)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int columns = 5;
        var table = new T[rois * columns];
        for (int k = 0; k < rois; k++)
        {
            T[] row = [T.CreateTruncating(geometry.Batch(k)), geometry.StartY(k), geometry.StartX(k), geometry.Height(k), geometry.Width(k)];
            row.CopyTo(table, k * columns);
        }
        return Tensor<T>.Wrap(table, rois, columns).To(device);
    }
}
