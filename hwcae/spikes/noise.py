"""Background noise for generated recordings: white or coloured (1/f^a), correlated across channels.

Real extracellular noise is neither white nor independent per channel: the background activity of
distant neurons has a falling spectrum and reaches neighbouring contacts alike. The generator here
draws Gaussian noise, mixes it across channels with a covariance that decays with contact distance,
and shapes its spectrum; every channel ends with the requested RMS (uV).
"""
from __future__ import annotations

import numpy as np

#: Corner of the spectral shaping (Hz): a band-passed recording's noise falls as 1/f^a above it and
#: is high-passed (second order) below it, as after a 300 Hz band-pass filter.
CORNER_HZ = 300.0


def spatial_covariance(positions_um: np.ndarray, correlation: float, length_um: float) -> np.ndarray:
    """(C, C) correlation matrix: ``(1 - rho) I + rho exp(-distance / length)``."""
    d = np.linalg.norm(positions_um[:, None, :] - positions_um[None, :, :], axis=2)
    return (1.0 - correlation) * np.eye(len(d)) + correlation * np.exp(-d / length_um)


def spectral_gain(n_samples: int, fs_hz: float, color: float) -> np.ndarray:
    """Amplitude gain per rFFT bin: ``(f / CORNER_HZ)^(-color / 2)`` above the corner, a second-order
    high-pass roll-off below it; ``color = 0`` is flat (white, full band)."""
    f = np.fft.rfftfreq(n_samples, 1.0 / fs_hz)
    if color == 0:
        return np.ones_like(f)
    r = np.maximum(f, 1e-9) / CORNER_HZ
    return np.where(r >= 1, r ** (-color / 2.0), r**2)


def generate_noise(n_samples: int, positions_um: np.ndarray, fs_hz: float, noise_uv: float | np.ndarray, *,
                   color: float = 0.0, correlation: float = 0.0, length_um: float = 60.0,
                   rng: np.random.Generator) -> np.ndarray:
    """(n_samples, channels) float32 noise in uV, each channel's RMS = ``noise_uv`` (scalar or per channel).

    ``color`` is the spectral exponent a (0 white, 1 pink); ``correlation`` in [0, 1) the weight of
    the distance-decaying shared part (length ``length_um``).
    """
    channels = len(positions_um)
    x = rng.standard_normal((n_samples, channels))
    if correlation > 0:
        chol = np.linalg.cholesky(spatial_covariance(np.asarray(positions_um, float), correlation, length_um))
        x = x @ chol.T
    if color != 0:
        gain = spectral_gain(n_samples, fs_hz, color)
        for c in range(channels):  # per channel keeps the FFT's memory to one column
            x[:, c] = np.fft.irfft(np.fft.rfft(x[:, c]) * gain, n=n_samples)
    x /= x.std(axis=0, keepdims=True) + 1e-12
    return (x * np.asarray(noise_uv, float)).astype(np.float32)
