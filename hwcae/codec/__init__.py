"""The bitstream, model-free and torch-free: symbol statistics, entropy coders and the ``.hwc`` container."""
