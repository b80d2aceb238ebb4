"""The on-chip encoder as one typed integer model (:mod:`.graph`), saved and loaded by :mod:`.io`, run
bit for bit by the NumPy reference (:mod:`.reference`), with the gain stage ahead of it (:mod:`.gain`).

Pure NumPy: the lowest layer every implementation of the encoder walks (see ``hwcae/__init__.py``)."""
