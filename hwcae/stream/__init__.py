"""Spikes and recordings to ``.hwc`` and back with a checkpoint (:mod:`.codec`), and streaming
compression of long recordings the way the chip would do it (:mod:`.compress`)."""
