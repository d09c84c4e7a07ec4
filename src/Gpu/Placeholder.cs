namespace DeformEngine.Gpu; public static class PlaceholderGpu {}
