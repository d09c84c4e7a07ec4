namespace DeformEngine; public static class PlaceholderOps {}
