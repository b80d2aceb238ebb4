"""The quantisation-aware (Brevitas) twin of the encoder, QAT, and :func:`.extract.extract` to the typed
integer model of :mod:`hwcae.fixedpoint`."""
