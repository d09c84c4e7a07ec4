namespace DeformEngine.Gpu.Kernels;

/// <summary>
/// Kernels of <c>Ops/RoIPooling/PSRoIAlign.cs</c>: as <see cref="RoIAlignKernels"/>, with bin (i, j)
/// of output channel c reading input channel (c·PH + i)·PW + j.
/// </summary>
public static class PSRoIAlignKernels
{
    public const string SourceName = "PSRoIAlign.cl";

    public const string Source = RoIBilinearKernels.Source + """
        /* The input plane of output element index of [rois, channels / (pooled_h·pooled_w), pooled_h, pooled_w]. */
        DEVICE_FUNC long ps_input_plane(long index, roi_window_t w, int channels, int pooled_h, int pooled_w, long plane) {
            long bins = (long)pooled_h * pooled_w;
            int channels_out = (int)(channels / bins);
            int channel_out = (int)((index / bins) % channels_out);
            long channel_in = (long)channel_out * bins + index % bins;
            return ((long)w.batch * channels + channel_in) * plane;
        }

        /* One work-item per output element (k, c, i, j). */
        KERNEL void ps_roi_align(GLOBAL const real* input, GLOBAL const real* windows, GLOBAL real* output,
                                 int channels, int height, int width, int rois, int pooled_h, int pooled_w) {
            long index = GLOBAL_ID;
            if (index >= (long)rois * channels) return;
            int j = (int)(index % pooled_w), i = (int)((index / pooled_w) % pooled_h);
            roi_window_t w = load_window(windows, index / channels);
            long plane = (long)height * width;
            output[index] = bin_average(input + ps_input_plane(index, w, channels, pooled_h, pooled_w, plane),
                                        height, width, w, i, j, (real)0, (real)0);
        }

        /* The same work-items; mode 1 adds into grad_input by float atomics, mode 2 into grad_fixed. */
        KERNEL void ps_roi_align_backward(GLOBAL const real* grad_output, GLOBAL const real* windows,
                                          GLOBAL real* grad_input, GLOBAL long* grad_fixed, int mode, real scale,
                                          int channels, int height, int width, int rois, int pooled_h, int pooled_w) {
            long index = GLOBAL_ID;
            if (index >= (long)rois * channels) return;
            int j = (int)(index % pooled_w), i = (int)((index / pooled_w) % pooled_h);
            roi_window_t w = load_window(windows, index / channels);
            long plane = (long)height * width, start = ps_input_plane(index, w, channels, pooled_h, pooled_w, plane);
            bin_scatter(grad_input + start, grad_fixed + start, height, width, w, i, j, (real)0, (real)0,
                        grad_output[index], mode, scale);
        }
        """;
}
