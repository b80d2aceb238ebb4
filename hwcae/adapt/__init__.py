"""Calibration on the user's own recording: denoising targets and training pairs made from the noisy
spikes alone (:mod:`.targets`) and the level-by-level fine-tuning of a float or QAT checkpoint
(:mod:`.calibrate`); ``hwcae adapt``."""
