"""Bit-exactness of two implementations of the encoder, spike by spike (NumPy only).

Every check (Brevitas, the NumPy reference, qonnx, the C simulations, the RTL and its netlist)
reports through :func:`compare_codes`, so "identical" means the same thing everywhere.
"""
from __future__ import annotations

import numpy as np


def compare_codes(a: tuple, b: tuple) -> dict:
    """``a``, ``b``: (latent codes (N, D, L), indices (N, L)[, gain codes (N,) or None]). The gain
    codes are compared when both sides have them. ``spikes_all_exact``: the share of spikes whose
    every code agrees; the first spike that does not is named, with where it differs."""
    n = len(a[0])
    lat_ok = (a[0] == b[0]).reshape(n, -1).all(axis=1)
    idx_ok = (a[1] == b[1]).reshape(n, -1).all(axis=1)
    out = {"spikes": int(n), "latent_exact": float((a[0] == b[0]).mean()), "index_exact": float((a[1] == b[1]).mean())}
    gain_ok = np.ones(n, bool)
    if len(a) > 2 and len(b) > 2 and a[2] is not None and b[2] is not None:
        gain_ok = np.asarray(a[2]) == np.asarray(b[2])
        out["gain_code_exact"] = float(gain_ok.mean())
    out["spikes_all_exact"] = float((lat_ok & idx_ok & gain_ok).mean())
    bad = np.flatnonzero(~(lat_ok & idx_ok & gain_ok))
    if len(bad):
        k = bad[0]
        out["first_mismatch_spike"] = int(k)
        out["first_mismatch_in"] = ("latent" if not lat_ok[k] else "index only (codeword search)" if not idx_ok[k]
                                    else "gain code only")
    return out
