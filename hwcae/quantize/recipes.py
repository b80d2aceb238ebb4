"""Named Brevitas quantiser recipes, all fixed point (power-of-two scales), built from widths.

- weights: signed, narrow range, per-tensor power-of-two scale from the weights' max
- activations: signed or unsigned, per-tensor power-of-two scale learned from runtime statistics
- input: the ADC word, a constant power-of-two scale covering +-range
- bias: integer with the accumulator's scale (input scale x weight scale), exact in the sum
"""
from __future__ import annotations

from brevitas.inject.enum import ScalingImplType
from brevitas.quant import Int8ActPerTensorFixedPoint, Int8WeightPerTensorFixedPoint, Uint8ActPerTensorFixedPoint
from brevitas.quant.scaled_int import IntBias


def weight_quant(bits: int):
    return Int8WeightPerTensorFixedPoint.let(bit_width=bits)


def act_quant(bits: int, signed: bool):
    base = Int8ActPerTensorFixedPoint if signed else Uint8ActPerTensorFixedPoint
    return base.let(bit_width=bits)


def input_quant(bits: int, full_scale: float):
    """Signed ``bits``-bit word over +-full_scale (normalised units; a power of two)."""
    return Int8ActPerTensorFixedPoint.let(bit_width=bits, scaling_impl_type=ScalingImplType.CONST,
                                          scaling_init=full_scale, max_val=full_scale, min_val=-full_scale)


def bias_quant(bits: int):
    return IntBias.let(bit_width=bits)
