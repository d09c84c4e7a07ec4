namespace DeformEngine.Gpu.Kernels;

/// <summary>
/// Kernels of <c>Ops/Conv2d/</c>: im2col, col2im as a gather (each pixel sums the column entries
/// that read it, in kernel-tap order: no atomics, deterministic, and the same order as the CPU's
/// col2im), and the bias add and bias gradient that the deformable convolution uses too.
/// Columns hold a chunk of images back to back: [images, C·kh·kw, OutH·OutW].
/// </summary>
public static class Conv2dGpuKernels
{
    public const string SourceName = "Conv2d.cl";

    /// <summary>Work-items per group that <c>bias_grad</c> must be launched with (its LOCAL array size).</summary>
    public const int BiasGroupSize = 256;

    public const string Source = """
        #define BIAS_GROUP_SIZE 256

        /* One work-item per column entry (image, c, kernel point, output position). */
        KERNEL void im2col(GLOBAL const real* input, GLOBAL real* columns, int first_image, int images,
                           int channels, int height, int width, int kernel_h, int kernel_w, int out_h, int out_w,
                           int stride_h, int stride_w, int pad_h, int pad_w, int dil_h, int dil_w) {
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
            int i = k / kernel_w, j = k % kernel_w;
            int iy = (int)(l / out_w) * stride_h - pad_h + i * dil_h;
            int ix = (int)(l % out_w) * stride_w - pad_w + j * dil_w;
            bool inside = iy >= 0 && iy < height && ix >= 0 && ix < width;
            columns[index] = inside ? input[((n * channels + c) * height + iy) * width + ix] : (real)0;
        }

        /* One work-item per input pixel (image, c, y, x) of the chunk; writes grad_input. */
        KERNEL void col2im(GLOBAL const real* columns, GLOBAL real* grad_input, int first_image, int images,
                           int channels, int height, int width, int kernel_h, int kernel_w, int out_h, int out_w,
                           int stride_h, int stride_w, int pad_h, int pad_w, int dil_h, int dil_w) {
            long index = GLOBAL_ID;
            long plane = (long)height * width;
            if (index >= (long)images * channels * plane) return;
            int x = (int)(index % width);
            int y = (int)((index / width) % height);
            long image_channel = index / plane;
            int points = kernel_h * kernel_w;
            long cols = (long)out_h * out_w;
            GLOBAL const real* rows = columns + image_channel * points * cols;
            real sum = (real)0;
            for (int i = 0; i < kernel_h; i++) {
                int ty = y + pad_h - i * dil_h;
                if (ty < 0 || ty % stride_h != 0 || ty / stride_h >= out_h) continue;
                int oy = ty / stride_h;
                for (int j = 0; j < kernel_w; j++) {
                    int tx = x + pad_w - j * dil_w;
                    if (tx < 0 || tx % stride_w != 0 || tx / stride_w >= out_w) continue;
                    sum += rows[(long)(i * kernel_w + j) * cols + (long)oy * out_w + tx / stride_w];
                }
            }
            grad_input[(long)first_image * channels * plane + index] = sum;
        }

        /* output [batch, channels, plane] += bias[channel]. */
        KERNEL void add_bias(GLOBAL real* output, GLOBAL const real* bias, int channels, long plane, long n) {
            long i = GLOBAL_ID;
            if (i < n) output[i] += bias[(i / plane) % channels];
        }

        /* One work-group per channel: each work-item sums a fixed strided subset, then a tree. */
        KERNEL void bias_grad(GLOBAL const real* grad_output, GLOBAL real* grad_bias, int batch, int channels, long plane) {
            LOCAL real scratch[BIAS_GROUP_SIZE];
            int lid = LOCAL_ID;
            long o = GROUP_ID;
            long total = (long)batch * plane;
            real sum = (real)0;
            for (long e = lid; e < total; e += BIAS_GROUP_SIZE) {
                long n = e / plane;
                sum += grad_output[(n * channels + o) * plane + e % plane];
            }
            scratch[lid] = sum;
            SYNC_THREADS
            for (int stride = BIAS_GROUP_SIZE / 2; stride > 0; stride >>= 1) {
                if (lid < stride) scratch[lid] += scratch[lid + stride];
                SYNC_THREADS
            }
            if (lid == 0) grad_bias[o] = scratch[0];
        }
        """;
}
