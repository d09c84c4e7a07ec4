namespace DeformEngine.Gpu.Kernels;

/// <summary>
/// Kernels of RoIAlign and PSRoIAlign (<c>Ops/RoIPooling/Functional.RoIAlign.cs</c>, one sampler for both): the forward
/// gathers one bin per work-item; the backward scatters each bin's upstream gradient to the corners of its
/// samples (float atomics, or 64-bit fixed point in deterministic mode). Bin (i, j) of output channel c reads
/// input channel c, or (c·PH + i)·PW + j when position_sensitive. RoIs are read from the host-built window
/// table (<see cref="RoIBilinearGpuKernels.WindowColumns"/> reals per RoI).
/// </summary>
public static class RoIAlignGpuKernels
{
    public const string SourceName = "RoIAlign.cl";

    public const string Source = RoIBilinearGpuKernels.Source + """
        /* The input plane of output element index of [rois, channels_out, pooled_h, pooled_w]. */
        DEVICE_FUNC long roi_align_input_plane(long index, roi_window_t w, int channels, int pooled_h, int pooled_w,
                                               int position_sensitive, long plane) {
            long bins = (long)pooled_h * pooled_w;
            int channels_out = position_sensitive ? (int)(channels / bins) : channels;
            int channel_out = (int)((index / bins) % channels_out);
            long channel_in = position_sensitive ? (long)channel_out * bins + index % bins : channel_out;
            return ((long)w.batch * channels + channel_in) * plane;
        }

        /* One work-item per output element (k, c, i, j); outputs = rois · channels_out · pooled_h · pooled_w. */
        KERNEL void roi_align(GLOBAL const real* input, GLOBAL const real* windows, GLOBAL real* output,
                              int channels, int height, int width, int rois, int pooled_h, int pooled_w,
                              int position_sensitive, long outputs) {
            long index = GLOBAL_ID;
            if (index >= outputs) return;
            int j = (int)(index % pooled_w), i = (int)((index / pooled_w) % pooled_h);
            roi_window_t w = load_window(windows, index / (outputs / rois));
            long plane = (long)height * width;
            output[index] = bin_average(input + roi_align_input_plane(index, w, channels, pooled_h, pooled_w, position_sensitive, plane),
                                        height, width, w, i, j, (real)0, (real)0);
        }

        /* The same work-items; mode 1 adds into grad_input by float atomics, mode 2 into grad_fixed. */
        KERNEL void roi_align_backward(GLOBAL const real* grad_output, GLOBAL const real* windows,
                                       GLOBAL real* grad_input, GLOBAL long* grad_fixed, int mode, real scale,
                                       int channels, int height, int width, int rois, int pooled_h, int pooled_w,
                                       int position_sensitive, long outputs) {
            long index = GLOBAL_ID;
            if (index >= outputs) return;
            int j = (int)(index % pooled_w), i = (int)((index / pooled_w) % pooled_h);
            roi_window_t w = load_window(windows, index / (outputs / rois));
            long plane = (long)height * width;
            long start = roi_align_input_plane(index, w, channels, pooled_h, pooled_w, position_sensitive, plane);
            bin_scatter(grad_input + start, grad_fixed + start, height, width, w, i, j, (real)0, (real)0,
                        grad_output[index], mode, scale);
        }
        """;
}
