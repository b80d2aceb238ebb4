"""Spike sets: the synthetic generator, readers of users' data, detection and snippets."""

# recording formats hwcae reads through SpikeInterface (see :func:`hwcae.spikes.readers.open_recording`)
RECORDING_FORMATS = ("binary", "spikeglx", "openephys", "nwb", "si")
