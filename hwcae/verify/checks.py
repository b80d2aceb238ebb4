"""The pieces of bit-exactness checking: each implementation's (latent codes, indices) on the same
inputs, and their comparison spike by spike. :mod:`hwcae.verify.design` runs them together.

Inputs are held-out spikes plus range-edge inputs (all-zero, full-scale, beyond full scale so the
ADC word saturates).
"""
from __future__ import annotations

import numpy as np
import torch

from hwcae.fixedpoint.compare import compare_codes
from hwcae.fixedpoint.graph import FixedPointModel
from hwcae.fixedpoint.reference import ReferenceEncoder


def encoder_inputs(model: FixedPointModel, spikes_uv: np.ndarray) -> np.ndarray:
    """What the encoder sees of ``spikes_uv``: the ADC words after the design's gain stage (the
    spikes themselves if it has none). Verification runs every implementation on these."""
    return ReferenceEncoder(model).gain_stage(spikes_uv)[0]


def edge_inputs(full_scale_uv: float, n_random: int = 64, seed: int = 0) -> np.ndarray:
    """Range-edge spikes in uV: zeros, +-full scale, +-2x full scale, alternating, random beyond."""
    rng = np.random.default_rng(seed)
    t = np.arange(64)
    fixed = [np.zeros((4, 64)), np.full((4, 64), full_scale_uv), np.full((4, 64), -full_scale_uv),
             np.full((4, 64), 2 * full_scale_uv), np.full((4, 64), -2 * full_scale_uv),
             np.tile(np.where(t % 2 == 0, full_scale_uv, -full_scale_uv), (4, 1)),
             np.tile(-full_scale_uv * np.exp(-0.5 * ((t - 24) / 3.0) ** 2), (4, 1))]
    rand = rng.uniform(-1.5 * full_scale_uv, 1.5 * full_scale_uv, (n_random, 4, 64))
    return np.concatenate([np.stack(fixed), rand]).astype(np.float32)


@torch.no_grad()
def brevitas_codes(encoder, spikes_uv: np.ndarray, batch: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """(latent integer codes (N, D, L), indices (N, L)) from the Brevitas model, run in float64:
    in float32, sums of 16-bit x 16-bit products exceed the 24-bit mantissa and round (w16a16
    lost 0.6 % of latent codes that way); in float64 every fixed-point value here is exact."""
    import copy

    encoder = copy.deepcopy(encoder).double().eval()
    lat, idx = [], []
    for i in range(0, len(spikes_uv), batch):
        x = torch.from_numpy(np.ascontiguousarray(spikes_uv[i:i + batch]) / encoder.arch.input_scale_uv).double()
        z = encoder.latent(x)
        lat.append(torch.round(z.value / z.scale).to(torch.int64).numpy())
        idx.append(torch.argmax(encoder.scores(z.value), dim=1).numpy())
    return np.concatenate(lat), np.concatenate(idx)


def compare(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> dict:
    """(latent codes, indices) of two implementations, spike by spike (:func:`hwcae.fixedpoint.compare.compare_codes`)."""
    return compare_codes(a, b)


def csim_codes(project, model: FixedPointModel, ref: ReferenceEncoder, spikes_uv: np.ndarray) -> tuple:
    """(latent codes, indices) from a compiled HLS project's C simulation, fed the ADC words."""
    from hwcae.export.hls_project import predict

    z, idx = predict(project, ref.quantize_input(spikes_uv) * 2.0**model.input.exp)
    return np.rint(z / 2.0**model.latent_word.exp).astype(np.int64), idx


def qonnx_codes(encoder, onnx_model, model: FixedPointModel, spikes_uv: np.ndarray) -> tuple:
    """(latent codes, indices) from qonnx's own executor on the QONNX export."""
    from hwcae.export import qonnx_export

    z, idx = qonnx_export.execute(onnx_model, encoder.to_export_layout(spikes_uv / encoder.arch.input_scale_uv))
    return np.rint(z / 2.0**model.latent_word.exp).astype(np.int64), idx.astype(np.int64)
