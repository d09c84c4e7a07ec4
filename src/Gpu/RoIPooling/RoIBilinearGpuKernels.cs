namespace DeformEngine.Gpu.Kernels;

/// <summary>
/// The device side of <c>Ops/RoIPooling/RoIBilinear.cs</c> and <c>Ops/RoIPooling/RoIAlignSampler.cs</c>,
/// shared by the RoI pooling kernels: the clamped bilinear sample of the RoI references (a point
/// within a margin of the plane is clamped to it, one beyond reads 0) and the bin average of the
/// RoI Align family with its adjoint and its shift derivative. They follow the CPU code operation
/// for operation, so both paths round alike. Not compiled on its own.
/// </summary>
public static class RoIBilinearGpuKernels
{
    /// <summary>Reals per row of the window table the host builds from <c>RoIChecks.AlignWindows</c>:
    /// batch, start y, start x, height, width, bin height, bin width, grid h, grid w.</summary>
    public const int WindowColumns = 9;

    public const string Source = """
        #define WINDOW_COLUMNS 9

        typedef struct {
            int inside, top, bottom, left, right, y_clamped, x_clamped;
            real ly, lx;
        } roi_corners_t;

        /* margin 1: torchvision and mmcv; margin 1/2: MXNet. */
        DEVICE_FUNC roi_corners_t roi_corners(real y, real x, int height, int width, real margin) {
            roi_corners_t c;
            real last_row = (real)(height - 1), last_column = (real)(width - 1);
            /* NOTE: a positive test, so NaN coordinates (possible through offsets) fall outside. */
            c.inside = y >= -margin && y <= last_row + margin && x >= -margin && x <= last_column + margin;
            c.top = 0; c.bottom = 0; c.left = 0; c.right = 0; c.y_clamped = 0; c.x_clamped = 0;
            c.ly = (real)0; c.lx = (real)0;
            if (!c.inside) return c;
            /* NOTE: in the clamped band the sample is constant in that coordinate; its derivative there is 0. */
            c.y_clamped = y <= (real)0 || y >= last_row;
            c.x_clamped = x <= (real)0 || x >= last_column;
            real cy = y < (real)0 ? (real)0 : (y > last_row ? last_row : y);
            real cx = x < (real)0 ? (real)0 : (x > last_column ? last_column : x);
            c.top = (int)cy;
            c.left = (int)cx;
            c.bottom = c.top + 1 < height - 1 ? c.top + 1 : height - 1;
            c.right = c.left + 1 < width - 1 ? c.left + 1 : width - 1;
            c.ly = cy - (real)c.top;
            c.lx = cx - (real)c.left;
            return c;
        }

        DEVICE_FUNC real roi_sample(roi_corners_t c, GLOBAL const real* plane, int width) {
            if (!c.inside) return (real)0;
            real glt = ((real)1 - c.ly) * ((real)1 - c.lx), grt = ((real)1 - c.ly) * c.lx;
            real glb = c.ly * ((real)1 - c.lx), grb = c.ly * c.lx;
            return glt * plane[(long)c.top * width + c.left] + grt * plane[(long)c.top * width + c.right]
                 + glb * plane[(long)c.bottom * width + c.left] + grb * plane[(long)c.bottom * width + c.right];
        }

        /* ∂sample/∂y and ∂sample/∂x, each 0 where that coordinate is clamped. */
        DEVICE_FUNC void roi_gradient(roi_corners_t c, GLOBAL const real* plane, int width, real* dy, real* dx) {
            *dy = (real)0; *dx = (real)0;
            if (!c.inside) return;
            real lt = plane[(long)c.top * width + c.left], rt = plane[(long)c.top * width + c.right];
            real lb = plane[(long)c.bottom * width + c.left], rb = plane[(long)c.bottom * width + c.right];
            if (!c.y_clamped) *dy = ((real)1 - c.lx) * (lb - lt) + c.lx * (rb - rt);
            if (!c.x_clamped) *dx = ((real)1 - c.ly) * (rt - lt) + c.ly * (rb - lb);
        }

        /* mode 1: plane[q] += value by float atomics; mode 2: fixed[q] += (long)(value·scale). */
        DEVICE_FUNC void roi_add_to_cell(GLOBAL real* plane, GLOBAL long* fixed, long index, real value, int mode, real scale) {
            if (mode == 1) ATOMIC_ADD_F(&plane[index], value);
            else ATOMIC_ADD_L(&fixed[index], (long)(value * scale));
        }

        /* The adjoint of roi_sample; corners that coincide at a clamped edge each receive their share. */
        DEVICE_FUNC void roi_scatter(roi_corners_t c, GLOBAL real* plane, GLOBAL long* fixed, int width, real value, int mode, real scale) {
            if (!c.inside) return;
            real glt = ((real)1 - c.ly) * ((real)1 - c.lx), grt = ((real)1 - c.ly) * c.lx;
            real glb = c.ly * ((real)1 - c.lx), grb = c.ly * c.lx;
            roi_add_to_cell(plane, fixed, (long)c.top * width + c.left, glt * value, mode, scale);
            roi_add_to_cell(plane, fixed, (long)c.top * width + c.right, grt * value, mode, scale);
            roi_add_to_cell(plane, fixed, (long)c.bottom * width + c.left, glb * value, mode, scale);
            roi_add_to_cell(plane, fixed, (long)c.bottom * width + c.right, grb * value, mode, scale);
        }

        /* One RoI of the window table, in feature-map pixels; grid_h × grid_w samples per bin. */
        typedef struct {
            int batch, grid_h, grid_w;
            real start_y, start_x, height, width, bin_h, bin_w;
        } roi_window_t;

        DEVICE_FUNC roi_window_t load_window(GLOBAL const real* windows, long roi) {
            GLOBAL const real* row = windows + roi * WINDOW_COLUMNS;
            roi_window_t w;
            w.batch = (int)row[0];
            w.start_y = row[1]; w.start_x = row[2];
            w.height = row[3]; w.width = row[4];
            w.bin_h = row[5]; w.bin_w = row[6];
            w.grid_h = (int)row[7]; w.grid_w = (int)row[8];
            return w;
        }

        /* max(grid_h·grid_w, 1): an empty grid averages to 0. */
        DEVICE_FUNC real window_count(roi_window_t w) {
            int n = w.grid_h * w.grid_w;
            return (real)(n > 1 ? n : 1);
        }

        DEVICE_FUNC real window_sample_y(roi_window_t w, int bin_y, int iy, real shift_y) {
            return w.start_y + shift_y + (real)bin_y * w.bin_h + ((real)iy + (real)0.5) * w.bin_h / (real)w.grid_h;
        }

        DEVICE_FUNC real window_sample_x(roi_window_t w, int bin_x, int ix, real shift_x) {
            return w.start_x + shift_x + (real)bin_x * w.bin_w + ((real)ix + (real)0.5) * w.bin_w / (real)w.grid_w;
        }

        /* The mean of the bin's samples, border rule of torchvision (margin 1). */
        DEVICE_FUNC real bin_average(GLOBAL const real* plane, int height, int width, roi_window_t w,
                                     int bin_y, int bin_x, real shift_y, real shift_x) {
            real sum = (real)0;
            for (int iy = 0; iy < w.grid_h; iy++) {
                real y = window_sample_y(w, bin_y, iy, shift_y);
                for (int ix = 0; ix < w.grid_w; ix++)
                    sum += roi_sample(roi_corners(y, window_sample_x(w, bin_x, ix, shift_x), height, width, (real)1), plane, width);
            }
            return sum / window_count(w);
        }

        /* The adjoint of bin_average: upstream / count · g_q to each corner of each sample. */
        DEVICE_FUNC void bin_scatter(GLOBAL real* grad_plane, GLOBAL long* fixed_plane, int height, int width, roi_window_t w,
                                     int bin_y, int bin_x, real shift_y, real shift_x, real upstream, int mode, real scale) {
            real per_sample = upstream / window_count(w);
            for (int iy = 0; iy < w.grid_h; iy++) {
                real y = window_sample_y(w, bin_y, iy, shift_y);
                for (int ix = 0; ix < w.grid_w; ix++)
                    roi_scatter(roi_corners(y, window_sample_x(w, bin_x, ix, shift_x), height, width, (real)1),
                                grad_plane, fixed_plane, width, per_sample, mode, scale);
            }
        }

        /* ∂bin_average/∂shift_y and ∂/∂shift_x: the means of the samples' coordinate derivatives. */
        DEVICE_FUNC void bin_shift_gradient(GLOBAL const real* plane, int height, int width, roi_window_t w,
                                            int bin_y, int bin_x, real shift_y, real shift_x, real* dy, real* dx) {
            real sum_y = (real)0, sum_x = (real)0;
            for (int iy = 0; iy < w.grid_h; iy++) {
                real y = window_sample_y(w, bin_y, iy, shift_y);
                for (int ix = 0; ix < w.grid_w; ix++) {
                    real sy, sx;
                    roi_gradient(roi_corners(y, window_sample_x(w, bin_x, ix, shift_x), height, width, (real)1), plane, width, &sy, &sx);
                    sum_y += sy;
                    sum_x += sx;
                }
            }
            *dy = sum_y / window_count(w);
            *dx = sum_x / window_count(w);
        }

        """;
}
