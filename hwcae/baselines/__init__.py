"""Conventional spike compressors the CAE is measured against: PCA, DWT, compressive sensing (NumPy)."""
