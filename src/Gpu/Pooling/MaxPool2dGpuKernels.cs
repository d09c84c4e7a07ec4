namespace DeformEngine.Gpu.Kernels;

/// <summary>
/// Kernels of <c>Ops/MaxPool2d.cs</c>: the forward keeps each window's argmax (flat index in its
/// plane, the first maximum in row-major window order, NaN winning); the backward is a gather:
/// each input pixel sums ∂L/∂out of the windows whose argmax it is, in window order, as the CPU adds.
/// </summary>
public static class MaxPool2dGpuKernels
{
    public const string SourceName = "MaxPool2d.cl";

    public const string Source = """
        #define POOL_PARAMS int planes, int height, int width, int out_h, int out_w, int kernel_h, int kernel_w, \
                            int stride_h, int stride_w, int pad_h, int pad_w

        /* One work-item per output element (plane, oy, ox). Every window holds at least one input pixel
           (padding is at most half the kernel), so the first one always replaces the initial value. */
        KERNEL void max_pool2d(GLOBAL const real* input, GLOBAL real* output, GLOBAL int* argmax, POOL_PARAMS) {
            long index = GLOBAL_ID;
            if (index >= (long)planes * out_h * out_w) return;
            int ox = (int)(index % out_w), oy = (int)((index / out_w) % out_h);
            GLOBAL const real* plane = input + (index / ((long)out_h * out_w)) * height * width;
            real best = (real)0;
            int best_index = -1;
            /* The window clipped to the input in 64 bits, as the CPU: a huge kernel costs the input's size. */
            long y0 = (long)oy * stride_h - pad_h, x0 = (long)ox * stride_w - pad_w;
            int y_start = y0 < 0 ? 0 : (int)y0, y_end = y0 + kernel_h < height ? (int)(y0 + kernel_h) : height;
            int x_start = x0 < 0 ? 0 : (int)x0, x_end = x0 + kernel_w < width ? (int)(x0 + kernel_w) : width;
            for (int y = y_start; y < y_end; y++) {
                for (int x = x_start; x < x_end; x++) {
                    real value = plane[(long)y * width + x];
                    if (value > best || value != value || best_index < 0) {
                        best = value;
                        best_index = y * width + x;
                    }
                }
            }
            output[index] = best;
            argmax[index] = best_index;
        }

        /* One work-item per input pixel (plane, y, x): the windows that contain it, in row-major order. */
        KERNEL void max_pool2d_backward(GLOBAL const real* grad_output, GLOBAL const int* argmax, GLOBAL real* grad_input,
                                        POOL_PARAMS) {
            long index = GLOBAL_ID;
            long plane_size = (long)height * width;
            if (index >= (long)planes * plane_size) return;
            int x = (int)(index % width), y = (int)((index / width) % height);
            long outputs = (long)out_h * out_w, first = (index / plane_size) * outputs;
            /* In 64 bits: y + pad and the window arithmetic can pass 2^31 for valid huge kernels and strides. */
            long ty = (long)y + pad_h, tx = (long)x + pad_w;
            int oy_first = ty - kernel_h + 1 <= 0 ? 0 : (int)((ty - kernel_h + stride_h) / stride_h);
            int ox_first = tx - kernel_w + 1 <= 0 ? 0 : (int)((tx - kernel_w + stride_w) / stride_w);
            int oy_last = ty / stride_h < out_h - 1 ? (int)(ty / stride_h) : out_h - 1;
            int ox_last = tx / stride_w < out_w - 1 ? (int)(tx / stride_w) : out_w - 1;
            int own = y * width + x;
            real sum = (real)0;
            for (int oy = oy_first; oy <= oy_last; oy++)
                for (int ox = ox_first; ox <= ox_last; ox++) {
                    long k = first + (long)oy * out_w + ox;
                    if (argmax[k] == own) sum += grad_output[k];
                }
            grad_input[index] = sum;
        }
        """;
}
