"""Streaming compression of long recordings, the way the chip would do it (see :mod:`.compress`)."""
