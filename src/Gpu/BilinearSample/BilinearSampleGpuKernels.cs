namespace DeformEngine.Gpu.Kernels;

/// <summary>
/// Kernels of <c>Ops/BilinearSample.cs</c>, and <see cref="Corners"/>, the bilinear helpers that
/// the deformable convolution's kernels share. They follow <c>BilinearCorners&lt;T&gt;</c> of the
/// CPU reference operation for operation, so both paths round alike.
/// </summary>
public static class BilinearSampleGpuKernels
{
    public const string SourceName = "BilinearSample.cl";

    /// <summary>
    /// corners_t and its functions: the border rule (a point outside (−1, H) × (−1, W), NaN
    /// included, reads 0; the slope is taken on [−1, H) × [−1, W), torchvision's edge rule), corner
    /// values (0 outside the plane), the sample, its derivatives in y and x, and the scatter of a
    /// gradient to the corners, either by float atomics (fast) or by 64-bit fixed-point atomics
    /// (deterministic: integer addition is associative).
    /// </summary>
    public const string Corners = """
        typedef struct {
            int inside, slope, top, left, top_in, bottom_in, left_in, right_in;
            real ly, lx;
        } corners_t;

        DEVICE_FUNC corners_t make_corners(real y, real x, int height, int width) {
            corners_t c;
            /* NOTE: a positive test, so NaN and infinite coordinates fall outside. */
            c.inside = y > (real)-1 && y < (real)height && x > (real)-1 && x < (real)width;
            /* NOTE: on the edges y = -1, x = -1 the sample is 0 but torchvision takes the slope from
               the inside (its coordinate weight has no border test): the corners are kept there. */
            c.slope = y >= (real)-1 && y < (real)height && x >= (real)-1 && x < (real)width;
            c.top = 0; c.left = 0; c.ly = (real)0; c.lx = (real)0;
            c.top_in = 0; c.bottom_in = 0; c.left_in = 0; c.right_in = 0;
            if (!c.slope) return c;
            /* NOTE: the integer corner indices carry no gradient; only ly and lx do. */
            real top = R_FLOOR(y), left = R_FLOOR(x);
            c.top = (int)top;
            c.left = (int)left;
            c.ly = y - top;
            c.lx = x - left;
            c.top_in = c.top >= 0;
            c.bottom_in = c.top + 1 <= height - 1;
            c.left_in = c.left >= 0;
            c.right_in = c.left + 1 <= width - 1;
            return c;
        }

        /* v[0..3] = values at left-top, right-top, left-bottom, right-bottom. */
        DEVICE_FUNC void corner_values(corners_t c, GLOBAL const real* plane, int width, real* v) {
            long row = (long)c.top * width, next = row + width;
            v[0] = c.top_in && c.left_in ? plane[row + c.left] : (real)0;
            v[1] = c.top_in && c.right_in ? plane[row + c.left + 1] : (real)0;
            v[2] = c.bottom_in && c.left_in ? plane[next + c.left] : (real)0;
            v[3] = c.bottom_in && c.right_in ? plane[next + c.left + 1] : (real)0;
        }

        DEVICE_FUNC real corner_sample(corners_t c, const real* v) {
            real glt = ((real)1 - c.ly) * ((real)1 - c.lx), grt = ((real)1 - c.ly) * c.lx;
            real glb = c.ly * ((real)1 - c.lx), grb = c.ly * c.lx;
            return glt * v[0] + grt * v[1] + glb * v[2] + grb * v[3];
        }

        /* ∂sample/∂y and ∂sample/∂x through the coefficients' ly and lx. */
        DEVICE_FUNC void corner_gradient(corners_t c, const real* v, real* dy, real* dx) {
            *dy = ((real)1 - c.lx) * (v[2] - v[0]) + c.lx * (v[3] - v[1]);
            *dx = ((real)1 - c.ly) * (v[1] - v[0]) + c.ly * (v[3] - v[2]);
        }

        /* mode 1: plane[q] += g_q·value by float atomics; mode 2: fixed[q] += (long)(g_q·value·scale). */
        DEVICE_FUNC void add_to_cell(GLOBAL real* plane, GLOBAL long* fixed, long index, real value, int mode, real scale) {
            if (mode == 1) ATOMIC_ADD_F(&plane[index], value);
            else ATOMIC_ADD_L(&fixed[index], (long)(value * scale));
        }

        DEVICE_FUNC void corner_scatter(corners_t c, GLOBAL real* plane, GLOBAL long* fixed, int width, real value, int mode, real scale) {
            long row = (long)c.top * width, next = row + width;
            real glt = ((real)1 - c.ly) * ((real)1 - c.lx), grt = ((real)1 - c.ly) * c.lx;
            real glb = c.ly * ((real)1 - c.lx), grb = c.ly * c.lx;
            if (c.top_in && c.left_in) add_to_cell(plane, fixed, row + c.left, glt * value, mode, scale);
            if (c.top_in && c.right_in) add_to_cell(plane, fixed, row + c.left + 1, grt * value, mode, scale);
            if (c.bottom_in && c.left_in) add_to_cell(plane, fixed, next + c.left, glb * value, mode, scale);
            if (c.bottom_in && c.right_in) add_to_cell(plane, fixed, next + c.left + 1, grb * value, mode, scale);
        }

        """;

    public const string Source = Corners + """
        /* One work-item per output element (b, ch, k) of [batch, channels, points]. */
        KERNEL void bilinear_sample(GLOBAL const real* input, GLOBAL const real* coords, GLOBAL real* output,
                                    int batch, int channels, int height, int width, int points) {
            long index = GLOBAL_ID;
            if (index >= (long)batch * channels * points) return;
            int k = (int)(index % points);
            long plane_index = index / points;
            int b = (int)(plane_index / channels);
            long point = (long)b * points + k;
            corners_t c = make_corners(coords[point * 2], coords[point * 2 + 1], height, width);
            real result = (real)0;
            if (c.inside) {
                real v[4];
                corner_values(c, input + plane_index * height * width, width, v);
                result = corner_sample(c, v);
            }
            output[index] = result;
        }

        /* One work-item per point (b, k), looping over channels: grad_coords is written directly, the
           input gradient is scattered (mode 0: not wanted, 1: float atomics into grad_input,
           2: fixed point into grad_fixed, converted afterwards). */
        KERNEL void bilinear_sample_backward(GLOBAL const real* grad_output, GLOBAL const real* input, GLOBAL const real* coords,
                                             GLOBAL real* grad_input, GLOBAL long* grad_fixed, int input_mode, real scale,
                                             GLOBAL real* grad_coords, int want_coords,
                                             int batch, int channels, int height, int width, int points) {
            long point = GLOBAL_ID;
            if (point >= (long)batch * points) return;
            int b = (int)(point / points), k = (int)(point % points);
            corners_t c = make_corners(coords[point * 2], coords[point * 2 + 1], height, width);
            real dy = (real)0, dx = (real)0;
            if (c.slope) {
                long plane = (long)height * width;
                for (int ch = 0; ch < channels; ch++) {
                    long plane_index = (long)b * channels + ch;
                    real upstream = grad_output[plane_index * points + k];
                    if (input_mode != 0 && c.inside)
                        corner_scatter(c, grad_input + plane_index * plane, grad_fixed + plane_index * plane, width, upstream, input_mode, scale);
                    if (want_coords) {
                        real v[4], sy, sx;
                        corner_values(c, input + plane_index * plane, width, v);
                        corner_gradient(c, v, &sy, &sx);
                        dy += upstream * sy;
                        dx += upstream * sx;
                    }
                }
            }
            if (want_coords) {
                grad_coords[point * 2] = dy;
                grad_coords[point * 2 + 1] = dx;
            }
        }
        """;
}
