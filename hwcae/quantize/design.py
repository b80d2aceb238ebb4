"""Fixed-point designs as validated YAML (``quantization/*.yaml``).

A design names the architecture it quantises and sets every word width on chip: the ADC input
word and its range, weights, biases, activations, the latent, the codebook, and the accumulator
width it promises (checked against the widest sum any layer can produce). Scales are powers of
two (fixed point), so every tensor is an ``ap_fixed<W,I>`` / ``ac_fixed<W,I,S>``. Rounding is
half-to-even (torch.round; HLS ``RND_CONV``) and overflow saturates (``SAT``): the only pair the
Brevitas -> QONNX -> hls4ml chain reproduces bit for bit, so the YAML cannot ask for others.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import pydantic

from hwcae.config import Strict, load_layered, parse

DESIGN_DIR = Path(__file__).resolve().parents[2] / "quantization"
# the committed designs every flow builds by default (`make qat`, `make hls`, `make rtl`, `make power`, explore's front)
DEFAULT_DESIGNS = ["w16a16", "w8a8", "w8a10", "w6a8", "w4a8", "hw-tiny"]


def qat_checkpoint(design: str) -> str:
    """Where ``make qat`` writes a design's committed QAT checkpoint (relative to the project root)."""
    return f"models/qat-{design}.pt"


def design_checkpoints(designs: list[str], checkpoint: str | None = None) -> dict[str, str]:
    """{design: its QAT checkpoint}: ``checkpoint`` where given, else the committed one; a missing
    file is one :class:`HwcaeError` line naming the design."""
    from hwcae.errors import HwcaeError

    ckpts = {d: checkpoint or qat_checkpoint(d) for d in designs}
    for d, ckpt in ckpts.items():
        if not Path(ckpt).is_file():
            raise HwcaeError(f"no QAT checkpoint for design {d}: {ckpt} (make qat writes it)")
    return ckpts

Bits = pydantic.conint(ge=2, le=24)


class Input(Strict):
    bits: Bits = 12  # the ADC word
    range_uv: pydantic.confloat(gt=0, le=1e6) = 1024.0  # full scale +-range_uv; must be a power of two x input_scale_uv


class LayerBits(Strict):
    weights: Bits | None = None
    activations: Bits | None = None


class Design(Strict):
    name: str
    description: str = ""
    arch: str  # architecture name (hwcae/model/arch) it quantises
    input: Input = Input()
    weight_bits: Bits = 8
    activation_bits: Bits = 8
    bias_bits: pydantic.conint(ge=4, le=32) = 24
    latent_bits: Bits = 8
    codebook_bits: Bits = 8
    accumulator_bits: pydantic.conint(ge=8, le=64) = 32
    rounding: Literal["half_even"] = "half_even"
    overflow: Literal["saturate"] = "saturate"
    # each activation word's radix point: `stats` (where Brevitas' runtime statistics put it: the range
    # covers the rarest large activations) or `val_sndr` (from there, moved 0-3 bits finer, all words
    # together, then each alone, wherever that raises the validation spikes' mean SNDR; what lies above
    # saturates: hwcae.quantize.qat.tune_activation_ranges)
    activation_range: Literal["stats", "val_sndr"] = "stats"
    layers: dict[str, LayerBits] = pydantic.Field({}, max_length=256)  # per-layer overrides: fc0, fc1, head (dense); stem, block0.reduce, ..., head (conv)
    # fine-tuning: epochs (0 = calibration only), Adam lr, batch_size (spikes per step and per
    # calibration batch; default: the architecture's training batch), max_train (a seeded subset of
    # the training spikes, a CPU budget; default all). A plain mapping (read with
    # .get); its values are checked by _check_qat
    qat: dict[str, float] = {"epochs": 6, "lr": 2e-4}

    @pydantic.field_validator("qat")
    @classmethod
    def _qat(cls, qat: dict) -> dict:
        _check_qat(qat)
        return qat

    @pydantic.model_validator(mode="after")
    def _check(self):
        if self.bias_bits > self.accumulator_bits:
            raise ValueError("bias_bits cannot exceed accumulator_bits")
        return self

    def bits_for(self, layer: str, kind: Literal["weights", "activations"]) -> int:
        over = self.layers.get(layer)
        value = getattr(over, kind) if over else None
        return value or (self.weight_bits if kind == "weights" else self.activation_bits)

    def input_frac_bits(self, input_scale_uv: float) -> int:
        """Fractional bits of the normalised input word (x_uV / input_scale_uv)."""
        ratio = self.input.range_uv / input_scale_uv
        int_bits = math.log2(ratio)
        if int_bits != round(int_bits):
            raise ValueError(f"input.range_uv / input_scale_uv = {ratio} is not a power of two")
        return self.input.bits - 1 - int(round(int_bits))


#: The ``qat`` keys: (whether the value must be a whole number, lowest, highest).
QAT_KEYS = {"epochs": (True, 0, 10000), "lr": (False, 0, 10), "batch_size": (True, 1, 1 << 20),
            "max_train": (True, 1, 1 << 30)}  # max_train: spikes drawn per run (a CPU budget; default all)


def _check_qat(qat: dict) -> None:
    bad = set(qat) - set(QAT_KEYS)
    if bad:
        raise ValueError(f"unknown keys {sorted(bad)} (known: {', '.join(QAT_KEYS)})")
    for key, value in qat.items():
        whole, lo, hi = QAT_KEYS[key]
        if whole and value != int(value):
            raise ValueError(f"{key} must be a whole number, got {value}")
        if not (lo <= value <= hi) or (key == "lr" and value <= 0):
            raise ValueError(f"{key} must be {'> ' if key == 'lr' else '>= '}{lo} and <= {hi}, got {value}")


def load_design(name_or_path: str) -> Design:
    """A design by name (``quantization/<name>.yaml``) or path; a file that says ``base: <name>`` holds
    only what differs from that design (:func:`hwcae.config.load_layered`)."""
    return load_layered(Design, name_or_path, DESIGN_DIR)


def design_from_dict(d: dict, source: str = "checkpoint") -> Design:
    return parse(Design, d, source)
