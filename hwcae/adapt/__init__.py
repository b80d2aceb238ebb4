"""Calibration on the user's own recording: hybrid denoising pairs from noisy spikes (:mod:`.pairs`) and the
level-by-level fine-tuning of a float or QAT checkpoint (:mod:`.calibrate`); ``hwcae adapt``."""
