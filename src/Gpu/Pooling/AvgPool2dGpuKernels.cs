namespace DeformEngine.Gpu.Kernels;

/// <summary>
/// Kernels of <c>Ops/AveragePooling.cs</c> (AvgPool2d, AdaptiveAvgPool2d). Windows arrive as an int
/// table [out_h·out_w, 6] (y start, y end, x start, x end, divisor rows, divisor columns; the divisor is
/// their product in 64 bits, converted once, as the CPU divides) whose rows and columns are
/// separable, as both operators' windows are; the backward is a gather: each input pixel sums the
/// shares of the windows that contain it, in window order, as the CPU adds.
/// </summary>
public static class AvgPool2dGpuKernels
{
    public const string SourceName = "AveragePooling.cl";

    public const string Source = """
        DEVICE_FUNC real window_divisor(GLOBAL const int* window) { return (real)((long)window[4] * window[5]); }

        /* One work-item per output element (plane, k). */
        KERNEL void avg_pool(GLOBAL const real* input, GLOBAL const int* windows, GLOBAL real* output,
                             int planes, int height, int width, int out_h, int out_w) {
            long index = GLOBAL_ID;
            long outputs = (long)out_h * out_w;
            if (index >= (long)planes * outputs) return;
            GLOBAL const int* window = windows + (index % outputs) * 6;
            GLOBAL const real* plane = input + (index / outputs) * height * width;
            real sum = (real)0;
            for (int y = window[0]; y < window[1]; y++)
                for (int x = window[2]; x < window[3]; x++) sum += plane[(long)y * width + x];
            output[index] = sum / window_divisor(window);
        }

        /* One work-item per input pixel (plane, y, x). */
        KERNEL void avg_pool_backward(GLOBAL const real* grad_output, GLOBAL const int* windows, GLOBAL real* grad_input,
                                      int planes, int height, int width, int out_h, int out_w) {
            long index = GLOBAL_ID;
            long plane_size = (long)height * width, outputs = (long)out_h * out_w;
            if (index >= (long)planes * plane_size) return;
            int x = (int)(index % width), y = (int)((index / width) % height);
            GLOBAL const real* upstream = grad_output + (index / plane_size) * outputs;
            real sum = (real)0;
            for (int oy = 0; oy < out_h; oy++) {
                GLOBAL const int* row = windows + (long)oy * out_w * 6;
                if (y < row[0] || y >= row[1]) continue;
                for (int ox = 0; ox < out_w; ox++) {
                    GLOBAL const int* window = windows + ((long)oy * out_w + ox) * 6;
                    if (x < window[2] || x >= window[3]) continue;
                    sum += upstream[(long)oy * out_w + ox] / window_divisor(window);
                }
            }
            grad_input[index] = sum;
        }
        """;
}
