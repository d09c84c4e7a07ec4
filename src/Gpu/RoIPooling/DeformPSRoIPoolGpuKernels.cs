namespace DeformEngine.Gpu.Kernels;

/// <summary>
/// Kernels of <c>Ops/RoIPooling/Functional.DeformPSRoIPool.cs</c> (MXNet's DeformablePSROIPooling): the bin
/// geometry of <c>DeformPSRoIPoolGeometry.Bin</c>, the mean over the samples kept inside the ½-pixel
/// margin, the input gradient as a scatter (float atomics, or 64-bit fixed point in deterministic
/// mode) and the trans gradient as a gather: one work-item per part sums every bin and channel that
/// the part moves. RoIs come from a host-built table of <see cref="RoiColumns"/> reals per RoI.
/// </summary>
public static class DeformPSRoIPoolGpuKernels
{
    public const string SourceName = "DeformPSRoIPool.cl";

    /// <summary>Reals per row of the RoI table: batch, start y, start x, height, width (MXNet's rounded RoI).</summary>
    public const int RoiColumns = 5;

    public const string Source = RoIBilinearGpuKernels.Source + """
        #define PS_ROI_COLUMNS 5

        /* The parameters every kernel of this file takes after its buffers. */
        #define PS_PARAMS int channels, int height, int width, int rois, int output_dim, int group_size, int pooled, \
                          int parts, int samples, int classes, real trans_std

        typedef struct {
            int channel, cls, part_y, part_x;
            real start_y, start_x, step_y, step_x;
        } ps_bin_t;

        DEVICE_FUNC long trans_index(long roi, int cls, int axis, int part_y, int part_x, int classes, int parts) {
            return (((roi * classes + cls) * 2 + axis) * parts + part_y) * parts + part_x;
        }

        /* Bin (i, j) of output channel `channel` of RoI `roi`: input channel, class, part, first sample, sample steps. */
        DEVICE_FUNC ps_bin_t ps_bin(GLOBAL const real* roi_table, GLOBAL const real* trans, int has_trans, long roi,
                                    int channel, int i, int j, int output_dim, int group_size, int pooled, int parts,
                                    int samples, int classes, real trans_std) {
            GLOBAL const real* row = roi_table + roi * PS_ROI_COLUMNS;
            real height = row[3], width = row[4];
            real bin_h = height / (real)pooled, bin_w = width / (real)pooled;
            ps_bin_t b;
            b.part_y = (int)((long)i * parts / pooled);
            b.part_x = (int)((long)j * parts / pooled);
            int group_y = (int)((long)i * group_size / pooled), group_x = (int)((long)j * group_size / pooled);
            b.cls = channel / (output_dim / classes);
            real trans_y = (real)0, trans_x = (real)0;
            if (has_trans) {
                trans_x = trans[trans_index(roi, b.cls, 0, b.part_y, b.part_x, classes, parts)] * trans_std;
                trans_y = trans[trans_index(roi, b.cls, 1, b.part_y, b.part_x, classes, parts)] * trans_std;
            }
            b.start_x = (real)j * bin_w + row[2] + trans_x * width;
            b.start_y = (real)i * bin_h + row[1] + trans_y * height;
            b.channel = (channel * group_size + group_y) * group_size + group_x;
            b.step_y = bin_h / (real)samples;
            b.step_x = bin_w / (real)samples;
            return b;
        }

        DEVICE_FUNC roi_corners_t ps_sample(ps_bin_t b, int iy, int ix, int height, int width) {
            return roi_corners(b.start_y + (real)iy * b.step_y, b.start_x + (real)ix * b.step_x, height, width, (real)0.5);
        }

        /* Where the bin's input plane starts in the input (and its gradient). */
        DEVICE_FUNC long ps_plane_start(GLOBAL const real* roi_table, long roi, ps_bin_t b, int channels, long plane) {
            return ((long)roi_table[roi * PS_ROI_COLUMNS] * channels + b.channel) * plane;
        }

        /* One work-item per output element (k, c, i, j) of [rois, output_dim, pooled, pooled]. */
        KERNEL void deform_ps_roi_pool(GLOBAL const real* input, GLOBAL const real* roi_table, GLOBAL const real* trans,
                                       int has_trans, GLOBAL real* output, PS_PARAMS) {
            long index = GLOBAL_ID;
            long bins = (long)pooled * pooled;
            if (index >= (long)rois * output_dim * bins) return;
            int i = (int)((index % bins) / pooled), j = (int)(index % pooled);
            long roi = index / bins / output_dim;
            int channel = (int)((index / bins) % output_dim);
            ps_bin_t b = ps_bin(roi_table, trans, has_trans, roi, channel, i, j, output_dim, group_size, pooled, parts,
                                samples, classes, trans_std);
            GLOBAL const real* source = input + ps_plane_start(roi_table, roi, b, channels, (long)height * width);
            real sum = (real)0;
            int kept = 0;
            for (int iy = 0; iy < samples; iy++)
                for (int ix = 0; ix < samples; ix++) {
                    roi_corners_t c = ps_sample(b, iy, ix, height, width);
                    if (!c.inside) continue;
                    sum += roi_sample(c, source, width);
                    kept++;
                }
            output[index] = kept == 0 ? (real)0 : sum / (real)kept;
        }

        /* The same work-items: each kept sample gets ∂L/∂out / kept through its corners
           (mode 1: float atomics into grad_input, 2: fixed point into grad_fixed). */
        KERNEL void deform_ps_roi_pool_backward_input(GLOBAL const real* grad_output, GLOBAL const real* roi_table,
                                                      GLOBAL const real* trans, int has_trans,
                                                      GLOBAL real* grad_input, GLOBAL long* grad_fixed, int mode, real scale,
                                                      PS_PARAMS) {
            long index = GLOBAL_ID;
            long bins = (long)pooled * pooled;
            if (index >= (long)rois * output_dim * bins) return;
            int i = (int)((index % bins) / pooled), j = (int)(index % pooled);
            long roi = index / bins / output_dim;
            int channel = (int)((index / bins) % output_dim);
            ps_bin_t b = ps_bin(roi_table, trans, has_trans, roi, channel, i, j, output_dim, group_size, pooled, parts,
                                samples, classes, trans_std);
            int kept = 0;
            for (int iy = 0; iy < samples; iy++)
                for (int ix = 0; ix < samples; ix++)
                    kept += ps_sample(b, iy, ix, height, width).inside;
            if (kept == 0) return;
            real per_sample = grad_output[index] / (real)kept;
            long start = ps_plane_start(roi_table, roi, b, channels, (long)height * width);
            for (int iy = 0; iy < samples; iy++)
                for (int ix = 0; ix < samples; ix++)
                    roi_scatter(ps_sample(b, iy, ix, height, width), grad_input + start, grad_fixed + start, width,
                                per_sample, mode, scale);
        }

        /* One work-item per part (k, cls, part_y, part_x): both trans gradients, summed over the class's
           channels and the bins that the part moves. NOTE: kept is treated as a constant, as in MXNet. */
        KERNEL void deform_ps_roi_pool_backward_trans(GLOBAL const real* grad_output, GLOBAL const real* input,
                                                      GLOBAL const real* roi_table, GLOBAL const real* trans,
                                                      GLOBAL real* grad_trans, PS_PARAMS) {
            long index = GLOBAL_ID;
            if (index >= (long)rois * classes * parts * parts) return;
            int part_x = (int)(index % parts), part_y = (int)((index / parts) % parts);
            int cls = (int)((index / ((long)parts * parts)) % classes);
            long roi = index / ((long)parts * parts * classes);
            GLOBAL const real* row = roi_table + roi * PS_ROI_COLUMNS;
            int per_class = output_dim / classes;
            long bins = (long)pooled * pooled, plane = (long)height * width;
            real gx = (real)0, gy = (real)0;
            for (int channel = cls * per_class; channel < (cls + 1) * per_class; channel++)
                for (int i = 0; i < pooled; i++) {
                    if ((int)((long)i * parts / pooled) != part_y) continue;
                    for (int j = 0; j < pooled; j++) {
                        if ((int)((long)j * parts / pooled) != part_x) continue;
                        ps_bin_t b = ps_bin(roi_table, trans, 1, roi, channel, i, j, output_dim, group_size,
                                            pooled, parts, samples, classes, trans_std);
                        GLOBAL const real* source = input + ps_plane_start(roi_table, roi, b, channels, plane);
                        int kept = 0;
                        real dy = (real)0, dx = (real)0;
                        for (int iy = 0; iy < samples; iy++)
                            for (int ix = 0; ix < samples; ix++) {
                                roi_corners_t c = ps_sample(b, iy, ix, height, width);
                                if (!c.inside) continue;
                                kept++;
                                real sy, sx;
                                roi_gradient(c, source, width, &sy, &sx);
                                dy += sy;
                                dx += sx;
                            }
                        if (kept == 0) continue;
                        real per_sample = grad_output[(roi * output_dim + channel) * bins + (long)i * pooled + j] / (real)kept;
                        gx += trans_std * row[4] * dx * per_sample;
                        gy += trans_std * row[3] * dy * per_sample;
                    }
                }
            grad_trans[trans_index(roi, cls, 0, part_y, part_x, classes, parts)] = gx;
            grad_trans[trans_index(roi, cls, 1, part_y, part_x, classes, parts)] = gy;
        }
        """;
}
