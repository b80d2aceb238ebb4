"""The on-chip encoder as one typed integer model: a list of operations over named tensors.

Every implementation that must agree with the chip walks this one list: the NumPy reference
(:mod:`hwcae.fixedpoint.reference`), the cost model, the HLS precisions, the codec and streaming.
Nothing rebuilds the wiring from layer names. A tensor is channels last per spike, (positions,
channels), and holds integer codes; its value is ``code x 2^exp``.

Operations, in execution order (``src`` / ``dst`` name tensors; ``"input"`` is the ADC word)::

    Conv     integer convolution, 'same' padding; a dense layer is a kernel-1 Conv at one position;
             ``groups`` > 1: a grouped convolution (output channel o reads only input channels
             of its group, as torch's ``groups``); ``shares`` names an earlier Conv whose weights
             it uses (a block applied twice: the weights are stored once, each use has its bias)
    Quant    requantise to a Word (shift, round half to even, saturate), optionally after a ReLU
    Add      exact sum of two tensors at one exponent (a residual add)
    MaxPool  max over ``size`` consecutive positions
    Reshape  (P, C) -> (positions, P x C / positions), row-major (flatten / split positions)

The last operation writes the latent (positions, D); :class:`Search` finds the nearest codeword
per position. An optional :class:`~hwcae.fixedpoint.gain.GainSpec` shifts the spike before the ADC
word is formed.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from hwcae import N_CHANNELS, N_SAMPLES
from hwcae.errors import HwcaeError
from hwcae.fixedpoint.gain import GainSpec


@dataclass(frozen=True)
class Word:
    """A fixed-point word: ``bits`` wide, signed or not, value = code x 2^exp."""

    bits: int
    signed: bool
    exp: int

    @property
    def lo(self) -> int:
        return -(2 ** (self.bits - 1)) if self.signed else 0

    @property
    def hi(self) -> int:
        return 2 ** (self.bits - 1) - 1 if self.signed else 2**self.bits - 1


@dataclass(frozen=True, eq=False)
class Conv:
    name: str
    src: str
    dst: str
    w: np.ndarray  # (out, in, kernel) integer codes
    w_exp: int
    w_bits: int
    b: np.ndarray  # (out,) integer codes at acc_exp
    in_exp: int  # exponent of the input tensor
    groups: int = 1  # w is (out, in / groups, kernel), as torch stores a grouped convolution
    shares: str = ""  # the earlier Conv whose weights these are ("" = its own)

    @property
    def acc_exp(self) -> int:
        return self.w_exp + self.in_exp

    @property
    def cout(self) -> int:
        return int(self.w.shape[0])

    @property
    def cin(self) -> int:
        return int(self.w.shape[1]) * self.groups

    @property
    def fan_in(self) -> int:
        """Products summed per output value: input channels of its group x kernel."""
        return int(self.w.shape[1]) * self.kernel

    @property
    def kernel(self) -> int:
        return int(self.w.shape[2])


@dataclass(frozen=True)
class Quant:
    name: str  # the quantiser; one quantiser may requantise several tensors (a residual add's operands)
    src: str
    dst: str
    word: Word
    relu: bool = False


@dataclass(frozen=True)
class Add:
    srcs: tuple[str, str]
    dst: str


@dataclass(frozen=True)
class MaxPool:
    src: str
    dst: str
    size: int


@dataclass(frozen=True)
class Reshape:
    src: str
    dst: str
    positions: int


@dataclass(frozen=True, eq=False)
class Search:
    """Nearest codeword per latent position: argmax_k z.e_k - ||e_k||^2 / 2 (first maximum on ties)."""

    codebook: np.ndarray  # (K, D) integer codes
    exp: int
    bits: int

    @property
    def size(self) -> int:
        return int(self.codebook.shape[0])

    @property
    def dim(self) -> int:
        return int(self.codebook.shape[1])


Op = Conv | Quant | Add | MaxPool | Reshape


def _srcs(op: Op) -> tuple[str, ...]:
    return op.srcs if isinstance(op, Add) else (op.src,)


@dataclass(eq=False)
class FixedPointModel:
    """The whole on-chip encoder in integers. ``encoder_kind`` names the family it came from (conv, dense)."""

    encoder_kind: str
    input_scale_uv: float  # spikes in uV are divided by this before the ADC word
    input: Word  # the ADC word
    ops: list[Op]
    search: Search
    bias_bits: int
    gain: GainSpec | None = None
    shapes: dict[str, tuple[int, int]] = field(init=False, repr=False)

    def __post_init__(self):
        self.shapes = self._walk_shapes()

    def _walk_shapes(self) -> dict[str, tuple[int, int]]:
        """(positions, channels) of every tensor; raises on a graph that does not fit together."""
        shapes = {"input": (N_SAMPLES, N_CHANNELS)}
        for op in self.ops:
            missing = [s for s in _srcs(op) if s not in shapes]
            if missing:
                raise HwcaeError(f"fixed-point graph: {op} reads {missing[0]!r} before it is written")
            p, c = shapes[_srcs(op)[0]]
            if isinstance(op, Conv):
                if op.cin != c:
                    raise HwcaeError(f"fixed-point graph: {op.name} takes {op.cin} channels, gets {c}")
                if op.groups < 1 or op.cout % op.groups:
                    raise HwcaeError(f"fixed-point graph: {op.name}: {op.groups} groups do not divide {op.cout} outputs")
                if op.shares:
                    first = next((o for o in self.convs() if o.name == op.shares), None)
                    if first is None or first is op or first.shares or first.groups != op.groups or \
                            first.w_exp != op.w_exp or not np.array_equal(first.w, op.w):
                        raise HwcaeError(f"fixed-point graph: {op.name} shares the weights of {op.shares!r}, "
                                         "which is not an earlier layer with those weights")
                shapes[op.dst] = (p, op.cout)
            elif isinstance(op, MaxPool):
                shapes[op.dst] = (p // op.size, c)
            elif isinstance(op, Reshape):
                if (p * c) % op.positions:
                    raise HwcaeError(f"fixed-point graph: cannot reshape {p} x {c} to {op.positions} positions")
                shapes[op.dst] = (op.positions, p * c // op.positions)
            else:
                if isinstance(op, Add) and shapes[op.srcs[1]] != (p, c):
                    raise HwcaeError(f"fixed-point graph: {op.dst} adds tensors of different shapes")
                shapes[op.dst] = (p, c)
        if shapes[self.latent][1] != self.search.dim:
            raise HwcaeError(f"fixed-point graph: latent has {shapes[self.latent][1]} values per position, "
                             f"the codebook {self.search.dim}")
        return shapes

    @property
    def latent(self) -> str:
        """The tensor the codeword search reads: the last operation's output."""
        return self.ops[-1].dst

    @property
    def latent_positions(self) -> int:
        return self.shapes[self.latent][0]

    @property
    def symbols_per_spike(self) -> int:
        """Codeword indices, plus the gain code if there is a gain stage."""
        return self.latent_positions + (self.gain is not None)

    @property
    def bits_per_spike(self) -> int:
        """Fixed-length bits the chip sends per spike (indices, then the gain code)."""
        index_bits = int(np.ceil(np.log2(self.search.size)))
        return self.latent_positions * index_bits + (self.gain.bits if self.gain is not None else 0)

    def convs(self) -> list[Conv]:
        return [op for op in self.ops if isinstance(op, Conv)]

    def word_of(self, tensor: str) -> Word:
        """The word a tensor is held in (through pools and reshapes back to its Quant or the input)."""
        if tensor == "input":
            return self.input
        op = next(o for o in self.ops if o.dst == tensor)
        if isinstance(op, Quant):
            return op.word
        if isinstance(op, (MaxPool, Reshape)):
            return self.word_of(op.src)
        raise HwcaeError(f"tensor {tensor!r} is an accumulator, not a stored word")

    def reader_word(self, tensor: str) -> Word | None:
        """The word the first Quant reading ``tensor`` writes (where a layer's result is stored)."""
        op = next((o for o in self.ops if isinstance(o, Quant) and o.src == tensor), None)
        return None if op is None else op.word

    def words(self) -> dict[str, Word]:
        """Quantiser name -> word, ``input`` first."""
        return {"input": self.input, **{op.name: op.word for op in self.ops if isinstance(op, Quant)}}

    @property
    def latent_word(self) -> Word:
        return self.word_of(self.latent)

    @property
    def adc(self) -> tuple[int, float]:
        """The ADC word as (bits, full-scale uV)."""
        return self.input.bits, 2.0 ** (self.input.bits - 1 + self.input.exp) * self.input_scale_uv

    def macs(self) -> int:
        """Multiply-accumulates per spike: every weight layer at every output position, plus the search."""
        convs = sum(c.fan_in * c.cout * self.shapes[c.dst][0] for c in self.convs())
        return convs + self.latent_positions * self.search.dim * self.search.size

    def weight_bits(self) -> int:
        """Bits of every weight and codeword (biases excluded), as the chip stores them: shared
        weights once."""
        return sum(c.w.size * c.w_bits for c in self.convs() if not c.shares) + self.search.codebook.size * self.search.bits

    def replace(self, **changes) -> "FixedPointModel":
        return dataclasses.replace(self, **changes)
