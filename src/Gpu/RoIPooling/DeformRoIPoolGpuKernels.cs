namespace DeformEngine.Gpu.Kernels;

/// <summary>
/// Kernels of <c>Ops/RoIPooling/Functional.DeformRoIPool.cs</c>: RoI Align bins moved by
/// (γ·h·offset[k, 1, bin], γ·w·offset[k, 0, bin]). The input gradient is a scatter (float atomics,
/// or 64-bit fixed point in deterministic mode); the offset gradient of a bin sums over channels in
/// one work-item, a gather.
/// </summary>
public static class DeformRoIPoolGpuKernels
{
    public const string SourceName = "DeformRoIPool.cl";

    public const string Source = RoIBilinearGpuKernels.Source + """
        DEVICE_FUNC void bin_shift(GLOBAL const real* offset, int has_offset, roi_window_t w, real gamma,
                                   long roi, long bin, long bins, real* shift_y, real* shift_x) {
            *shift_y = has_offset ? gamma * w.height * offset[(roi * 2 + 1) * bins + bin] : (real)0;
            *shift_x = has_offset ? gamma * w.width * offset[(roi * 2) * bins + bin] : (real)0;
        }

        /* One work-item per output element (k, c, i, j) of [rois, channels, pooled_h, pooled_w]. */
        KERNEL void deform_roi_pool(GLOBAL const real* input, GLOBAL const real* windows, GLOBAL const real* offset,
                                    int has_offset, real gamma, GLOBAL real* output,
                                    int channels, int height, int width, int rois, int pooled_h, int pooled_w) {
            long index = GLOBAL_ID;
            long bins = (long)pooled_h * pooled_w;
            if (index >= (long)rois * channels * bins) return;
            long bin = index % bins;
            int i = (int)(bin / pooled_w), j = (int)(bin % pooled_w);
            long roi = index / bins / channels;
            int ch = (int)((index / bins) % channels);
            roi_window_t w = load_window(windows, roi);
            real shift_y, shift_x;
            bin_shift(offset, has_offset, w, gamma, roi, bin, bins, &shift_y, &shift_x);
            long plane = (long)height * width;
            output[index] = bin_average(input + ((long)w.batch * channels + ch) * plane, height, width, w, i, j, shift_y, shift_x);
        }

        /* The same work-items; mode 1 adds into grad_input by float atomics, mode 2 into grad_fixed. */
        KERNEL void deform_roi_pool_backward_input(GLOBAL const real* grad_output, GLOBAL const real* windows,
                                                   GLOBAL const real* offset, int has_offset, real gamma,
                                                   GLOBAL real* grad_input, GLOBAL long* grad_fixed, int mode, real scale,
                                                   int channels, int height, int width, int rois, int pooled_h, int pooled_w) {
            long index = GLOBAL_ID;
            long bins = (long)pooled_h * pooled_w;
            if (index >= (long)rois * channels * bins) return;
            long bin = index % bins;
            int i = (int)(bin / pooled_w), j = (int)(bin % pooled_w);
            long roi = index / bins / channels;
            int ch = (int)((index / bins) % channels);
            roi_window_t w = load_window(windows, roi);
            real shift_y, shift_x;
            bin_shift(offset, has_offset, w, gamma, roi, bin, bins, &shift_y, &shift_x);
            long plane = (long)height * width, start = ((long)w.batch * channels + ch) * plane;
            bin_scatter(grad_input + start, grad_fixed + start, height, width, w, i, j, shift_y, shift_x,
                        grad_output[index], mode, scale);
        }

        /* One work-item per bin (k, i, j): grad_offset[k, 0, bin] = γ·w·Σ_c ∂L/∂out · ∂bin/∂shift_x (y likewise). */
        KERNEL void deform_roi_pool_backward_offset(GLOBAL const real* grad_output, GLOBAL const real* input,
                                                    GLOBAL const real* windows, GLOBAL const real* offset, real gamma,
                                                    GLOBAL real* grad_offset,
                                                    int channels, int height, int width, int rois, int pooled_h, int pooled_w) {
            long index = GLOBAL_ID;
            long bins = (long)pooled_h * pooled_w;
            if (index >= (long)rois * bins) return;
            long bin = index % bins, roi = index / bins;
            int i = (int)(bin / pooled_w), j = (int)(bin % pooled_w);
            roi_window_t w = load_window(windows, roi);
            real shift_y, shift_x;
            bin_shift(offset, 1, w, gamma, roi, bin, bins, &shift_y, &shift_x);
            long plane = (long)height * width;
            real dy = (real)0, dx = (real)0;
            for (int ch = 0; ch < channels; ch++) {
                real upstream = grad_output[(roi * channels + ch) * bins + bin];
                real sy, sx;
                bin_shift_gradient(input + ((long)w.batch * channels + ch) * plane, height, width, w, i, j, shift_y, shift_x, &sy, &sx);
                dy += upstream * sy;
                dx += upstream * sx;
            }
            grad_offset[(roi * 2) * bins + bin] = gamma * w.width * dx;
            grad_offset[(roi * 2 + 1) * bins + bin] = gamma * w.height * dy;
        }
        """;
}
