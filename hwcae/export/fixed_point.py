"""The fixed-point contents of a QAT encoder as plain integers and power-of-two exponents.

This is the hand-off from Brevitas to everything that must not need torch: the NumPy reference
model, the HLS precision settings and the cost estimator. Each tensor is stored as an integer
array plus an exponent ``e`` (value = int x 2^e); activations as (bits, signed, exponent).
Saved as ``weights.npz`` beside the HLS projects.
"""
from __future__ import annotations

import math
import os

import numpy as np
import torch

from hwcae.errors import HwcaeError


def _exp(scale) -> int:
    e = math.log2(float(torch.as_tensor(scale).reshape(-1)[0]))
    if abs(e - round(e)) > 1e-9:
        raise HwcaeError(f"scale {2 ** e} is not a power of two: not a fixed-point design")
    return int(round(e))


def _act(qt) -> dict:
    return {"bits": int(qt.bit_width), "signed": bool(qt.signed), "exp": _exp(qt.scale)}


@torch.no_grad()
def extract(encoder) -> dict:
    """Integer weights, biases and activation formats of a QAT encoder (eval mode).

    Dense layers are stored as kernel-1 convolutions over one position (``w`` (out, in, 1)), so
    one layer format serves both encoder kinds; ``kind`` and ``positions`` say how to run them."""
    encoder.eval()
    acts: dict[str, dict] = {}
    hooks = []
    conv_in: dict[str, int] = {}

    def record_act(name):
        def hook(module, inputs, output):  # must return None: a value would replace the output
            acts.setdefault(name, _act(output))
        return hook

    def record_conv_input(name):
        def hook(module, inputs, output):
            conv_in.setdefault(name, _exp(inputs[0].scale))
        return hook

    for name, mod in encoder.act_quantizers().items():
        hooks.append(mod.register_forward_hook(record_act(name)))
    for name in encoder.layer_names():
        hooks.append(encoder.layer(name).register_forward_hook(record_conv_input(name)))
    encoder.latent(torch.zeros(1, 4, 64))
    for h in hooks:
        h.remove()
    out = {"acts": acts, "convs": {}, "kind": encoder.kind, "positions": int(encoder.arch.latent_positions)}
    for name in encoder.layer_names():
        layer = encoder.layer(name)
        qw = layer.quant_weight()
        w_exp = _exp(qw.scale)
        acc_exp = w_exp + conv_in[name]
        bias_bits = encoder.design.bias_bits
        lim = 2 ** (bias_bits - 1) - 1
        b_int = torch.clamp(torch.round(layer.bias / 2.0 ** acc_exp), -lim, lim)
        w_int = torch.round(qw.value / 2.0 ** w_exp).to(torch.int64)
        w = w_int.reshape(w_int.shape[0], w_int.shape[1], -1).numpy()  # (out, in, k); a linear layer: k = 1
        out["convs"][name] = {
            "w": w, "w_exp": w_exp, "w_bits": int(qw.bit_width),
            "b": b_int.to(torch.int64).numpy(), "acc_exp": acc_exp, "in_exp": conv_in[name], "kernel": w.shape[2],
        }
    cb = encoder.score.quant_weight()
    cb_exp = _exp(cb.scale)
    cb_int = torch.round(cb.value / 2.0 ** cb_exp).to(torch.int64)
    out["codebook"] = {"w": cb_int.reshape(cb_int.shape[0], cb_int.shape[1]).numpy(), "exp": cb_exp, "bits": int(cb.bit_width)}
    blocks = getattr(encoder, "blocks", [])
    out["pools"] = [b.pool.kernel_size if isinstance(b.pool, torch.nn.MaxPool1d) else 1 for b in blocks]
    out["input_scale_uv"] = float(encoder.arch.input_scale_uv)
    out["gain"] = None if encoder.arch.gain is None else encoder.arch.gain.model_dump()
    return out


def save(fp: dict, path: str | os.PathLike) -> None:
    """Flatten to one ``.npz`` (atomically): arrays as they are, formats as small int arrays."""
    from hwcae.fileio import atomic_path

    arrays = {"input_scale_uv": np.array(fp["input_scale_uv"]), "pools": np.array(fp["pools"], np.int64),
              "kind": np.array(fp["kind"]), "positions": np.array(fp["positions"]), "order": np.array(list(fp["convs"]))}
    for name, a in fp["acts"].items():
        arrays[f"act/{name}"] = np.array([a["bits"], int(a["signed"]), a["exp"]])
    for name, c in fp["convs"].items():
        arrays[f"conv/{name}/w"], arrays[f"conv/{name}/b"] = c["w"], c["b"]
        arrays[f"conv/{name}/meta"] = np.array([c["w_exp"], c["w_bits"], c["acc_exp"], c["in_exp"], c["kernel"]])
    arrays["codebook/w"] = fp["codebook"]["w"]
    arrays["codebook/meta"] = np.array([fp["codebook"]["exp"], fp["codebook"]["bits"]])
    if fp.get("gain") is not None:  # the gain stage ahead of the encoder: bits, min_uv, target_uv
        g = fp["gain"]
        arrays["gain"] = np.array([g["bits"], g["min_uv"], g["target_uv"]], np.float64)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


def load(path: str | os.PathLike) -> dict:
    try:
        z = dict(np.load(path, allow_pickle=False))
    except Exception as exc:
        raise HwcaeError(f"cannot read fixed-point weights {path}: {exc.__class__.__name__}") from None
    missing = {"input_scale_uv", "pools", "kind", "positions", "order", "codebook/w"} - set(z)
    if missing:
        raise HwcaeError(f"{path} is not an hwcae fixed-point weights file (no {sorted(missing)[0]}): re-run make hls")
    fp = {"acts": {}, "convs": {}, "input_scale_uv": float(z["input_scale_uv"]), "pools": z["pools"].tolist(),
          "kind": str(z["kind"]), "positions": int(z["positions"])}
    for key, v in z.items():
        parts = key.split("/")
        if parts[0] == "act":
            fp["acts"][parts[1]] = {"bits": int(v[0]), "signed": bool(v[1]), "exp": int(v[2])}
        elif parts[0] == "conv" and parts[2] == "meta":
            name = parts[1]
            fp["convs"][name] = {"w": z[f"conv/{name}/w"], "b": z[f"conv/{name}/b"], "w_exp": int(v[0]),
                                 "w_bits": int(v[1]), "acc_exp": int(v[2]), "in_exp": int(v[3]), "kernel": int(v[4])}
    fp["convs"] = {str(n): fp["convs"][str(n)] for n in z["order"]}
    fp["codebook"] = {"w": z["codebook/w"], "exp": int(z["codebook/meta"][0]), "bits": int(z["codebook/meta"][1])}
    g = z.get("gain")
    fp["gain"] = None if g is None else {"bits": int(g[0]), "min_uv": float(g[1]), "target_uv": float(g[2])}
    return fp
