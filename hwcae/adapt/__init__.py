"""Calibration on the user's own recording: denoising targets and training pairs made from the noisy
spikes alone (:mod:`.targets`) and the level-by-level fine-tuning of a float or QAT checkpoint
(:mod:`.calibrate`); ``hwcae adapt``."""

#: Fine-tuning epochs of 30,000 pairs (here, not in :mod:`.calibrate`, so that ``hwcae adapt --help``
#: can show it without importing torch). Suite `val`, level `all`: 24 cosine-decayed epochs with hybrid
#: pairs beat 12 at a constant rate by +0.8 to +2.4 dB on every set; 48 add +0.03 to +0.42 for twice the time.
DEFAULT_EPOCHS = 24
