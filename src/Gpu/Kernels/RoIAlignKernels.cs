namespace DeformEngine.Gpu.Kernels;

/// <summary>
/// Kernels of <c>Ops/RoIPooling/RoIAlign.cs</c>: the forward gathers one bin per work-item; the
/// backward scatters each bin's upstream gradient to the corners of its samples (float atomics, or
/// 64-bit fixed point in deterministic mode). RoIs are read from the host-built window table
/// (<see cref="RoIBilinearKernels.WindowColumns"/> reals per RoI).
/// </summary>
public static class RoIAlignKernels
{
    public const string SourceName = "RoIAlign.cl";

    public const string Source = RoIBilinearKernels.Source + """
        /* One work-item per output element (k, c, i, j) of [rois, channels, pooled_h, pooled_w]. */
        KERNEL void roi_align(GLOBAL const real* input, GLOBAL const real* windows, GLOBAL real* output,
                              int channels, int height, int width, int rois, int pooled_h, int pooled_w) {
            long index = GLOBAL_ID;
            if (index >= (long)rois * channels * pooled_h * pooled_w) return;
            int j = (int)(index % pooled_w), i = (int)((index / pooled_w) % pooled_h);
            long roi_channel = index / ((long)pooled_h * pooled_w);
            int ch = (int)(roi_channel % channels);
            roi_window_t w = load_window(windows, roi_channel / channels);
            long plane = (long)height * width;
            output[index] = bin_average(input + ((long)w.batch * channels + ch) * plane, height, width, w, i, j, (real)0, (real)0);
        }

        /* The same work-items; mode 1 adds into grad_input by float atomics, mode 2 into grad_fixed. */
        KERNEL void roi_align_backward(GLOBAL const real* grad_output, GLOBAL const real* windows,
                                       GLOBAL real* grad_input, GLOBAL long* grad_fixed, int mode, real scale,
                                       int channels, int height, int width, int rois, int pooled_h, int pooled_w) {
            long index = GLOBAL_ID;
            if (index >= (long)rois * channels * pooled_h * pooled_w) return;
            int j = (int)(index % pooled_w), i = (int)((index / pooled_w) % pooled_h);
            long roi_channel = index / ((long)pooled_h * pooled_w);
            int ch = (int)(roi_channel % channels);
            roi_window_t w = load_window(windows, roi_channel / channels);
            long plane = (long)height * width, start = ((long)w.batch * channels + ch) * plane;
            bin_scatter(grad_input + start, grad_fixed + start, height, width, w, i, j, (real)0, (real)0,
                        grad_output[index], mode, scale);
        }
        """;
}
