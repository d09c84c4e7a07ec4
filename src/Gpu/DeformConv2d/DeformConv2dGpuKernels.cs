namespace DeformEngine.Gpu.Kernels;

/// <summary>
/// Kernels of <c>Ops/DeformConv2d/</c>: deformable im2col and the sampling backward, with the
/// layouts of the CPU reference (offset [N, 2·G·kh·kw, OutH·OutW] with dy first, mask
/// [N, G·kh·kw, OutH·OutW], columns [images, C·kh·kw, OutH·OutW]).
/// </summary>
public static class DeformConv2dGpuKernels
{
    public const string SourceName = "DeformConv2d.cl";

    public const string Source = BilinearSampleGpuKernels.Corners + """
        /* The sampling point of kernel point k = (i, j) of output position l, offset group g, image n. */
        DEVICE_FUNC corners_t sampling_corners(GLOBAL const real* offset, long n, int g, int k, long l,
                                               int height, int width, int kernel_w, int out_w, int points, long cols, int offset_groups,
                                               int stride_h, int stride_w, int pad_h, int pad_w, int dil_h, int dil_w) {
            long base = ((n * offset_groups + g) * points + k) * 2 * cols + l;
            int i = k / kernel_w, j = k % kernel_w;
            real y = (real)((int)(l / out_w) * stride_h - pad_h + i * dil_h) + offset[base];
            real x = (real)((int)(l % out_w) * stride_w - pad_w + j * dil_w) + offset[base + cols];
            return make_corners(y, x, height, width);
        }

        /* One work-item per column entry (image, c, kernel point, output position):
           columns = m · bilinear(input[c], p). */
        KERNEL void deform_im2col(GLOBAL const real* input, GLOBAL const real* offset, GLOBAL const real* mask, int has_mask,
                                  GLOBAL real* columns, int first_image, int images,
                                  int channels, int height, int width, int kernel_h, int kernel_w, int out_h, int out_w,
                                  int stride_h, int stride_w, int pad_h, int pad_w, int dil_h, int dil_w, int offset_groups) {
            long index = GLOBAL_ID;
            int points = kernel_h * kernel_w;
            long cols = (long)out_h * out_w;
            if (index >= (long)images * channels * points * cols) return;
            long l = index % cols;
            long rest = index / cols;
            int k = (int)(rest % points);
            rest /= points;
            int c = (int)(rest % channels);
            long n = first_image + rest / channels;
            int g = c / (channels / offset_groups);
            corners_t cr = sampling_corners(offset, n, g, k, l, height, width, kernel_w, out_w, points, cols, offset_groups,
                                            stride_h, stride_w, pad_h, pad_w, dil_h, dil_w);
            real m = has_mask ? mask[((n * offset_groups + g) * points + k) * cols + l] : (real)1;
            real sample = (real)0;
            if (cr.inside) {
                real v[4];
                corner_values(cr, input + (n * channels + c) * height * width, width, v);
                sample = corner_sample(cr, v);
            }
            columns[index] = m * sample;
        }

        /* One work-item per sampling point (image, offset group, kernel point, output position), looping
           over the group's channels: grad_offset = m·Σ_c ∂L/∂col·∂sample/∂(y, x), grad_mask = Σ_c ∂L/∂col·sample,
           and the input gradient g_q·m·∂L/∂col scattered to the corners (input_mode 0: not wanted,
           1: float atomics into grad_input, 2: fixed point into grad_fixed, laid out per chunk image). */
        KERNEL void deform_sampling_backward(GLOBAL const real* grad_columns, GLOBAL const real* input,
                                             GLOBAL const real* offset, GLOBAL const real* mask, int has_mask,
                                             GLOBAL real* grad_input, GLOBAL long* grad_fixed, int input_mode, real scale,
                                             GLOBAL real* grad_offset, int want_offset, GLOBAL real* grad_mask, int want_mask,
                                             int first_image, int images,
                                             int channels, int height, int width, int kernel_h, int kernel_w, int out_h, int out_w,
                                             int stride_h, int stride_w, int pad_h, int pad_w, int dil_h, int dil_w, int offset_groups) {
            long index = GLOBAL_ID;
            int points = kernel_h * kernel_w;
            long cols = (long)out_h * out_w;
            if (index >= (long)images * offset_groups * points * cols) return;
            long l = index % cols;
            long rest = index / cols;
            int k = (int)(rest % points);
            rest /= points;
            int g = (int)(rest % offset_groups);
            long local_n = rest / offset_groups;
            long n = first_image + local_n;
            corners_t cr = sampling_corners(offset, n, g, k, l, height, width, kernel_w, out_w, points, cols, offset_groups,
                                            stride_h, stride_w, pad_h, pad_w, dil_h, dil_w);
            long mask_index = ((n * offset_groups + g) * points + k) * cols + l;
            long offset_index = ((n * offset_groups + g) * points + k) * 2 * cols + l;
            /* NOTE: a point outside [−1, H) × [−1, W), or a non-finite one, sampled 0 whatever its
               offset: every gradient through it is 0 (written as 0, not m·0, which a NaN mask would spoil).
               On the edges y = −1, x = −1 it sampled 0 too (no input or mask gradient) but has
               torchvision's slope from the inside. */
            if (!cr.slope) {
                if (want_offset) { grad_offset[offset_index] = (real)0; grad_offset[offset_index + cols] = (real)0; }
                if (want_mask) grad_mask[mask_index] = (real)0;
                return;
            }
            real m = has_mask ? mask[mask_index] : (real)1;
            long plane = (long)height * width;
            int per_group = channels / offset_groups;
            real dy = (real)0, dx = (real)0, dm = (real)0;
            for (int c = g * per_group; c < (g + 1) * per_group; c++) {
                real upstream = grad_columns[((local_n * channels + c) * points + k) * cols + l];
                if (input_mode != 0 && cr.inside)
                    corner_scatter(cr, grad_input + (n * channels + c) * plane, grad_fixed + (local_n * channels + c) * plane,
                                   width, m * upstream, input_mode, scale);
                if (want_offset || want_mask) {
                    real v[4];
                    corner_values(cr, input + (n * channels + c) * plane, width, v);
                    if (want_offset) {
                        real sy, sx;
                        corner_gradient(cr, v, &sy, &sx);
                        dy += upstream * sy;
                        dx += upstream * sx;
                    }
                    if (want_mask && cr.inside) dm += upstream * corner_sample(cr, v);
                }
            }
            if (want_offset) { grad_offset[offset_index] = m * dy; grad_offset[offset_index + cols] = m * dx; }
            if (want_mask) grad_mask[mask_index] = dm;
        }
        """;
}
