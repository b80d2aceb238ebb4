"""Building a design: QONNX export and HLS projects (backends registered in :mod:`.backends`).
Checking the builds against each other is :mod:`hwcae.verify`'s job."""
