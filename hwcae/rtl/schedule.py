"""Lower the typed fixed-point model to the RTL datapath's program: instructions, memory map, ROM images.

The datapath (:mod:`hwcae.rtl.verilog`) is one time-multiplexed engine with ``lanes`` multiply-
accumulate units. It runs a fixed list of instructions, one per layer:

    conv    for each position, for each group of ``lanes`` output channels: accumulators = biases,
            then one input word x ``lanes`` weights per cycle over (tap, input channel); drain the
            accumulators one per cycle through the requantiser (ReLU, round half even, saturate)
            into the activation RAM. A Conv and the Quant that reads its accumulator are one
            instruction.
    search  the codeword search as a conv over the latent: accumulators = -||e_k||^2 x 2^b, products
            shifted by 2^a (the reference's common exponent), drained through a running argmax
            (strict >, so ties keep the lowest index); one index per position leaves on the stream.
    ewise   per element: requantise one stored tensor (Quant), the sum of two (Add + its Quant),
            or the max of two positions (MaxPool of 2).
Reshape is free (tensors are channels last, row-major: a reshape is the same addresses).
Tensors get activation-RAM regions by liveness (first fit), so a buffer is reused once read.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hwcae import N_CHANNELS, N_SAMPLES, PEAK_SAMPLE
from hwcae.errors import HwcaeError
from hwcae.fixedpoint.graph import Add, Conv, FixedPointModel, MaxPool, Quant, Reshape, Word

OPCODES = {"conv": 0, "search": 1, "ewise": 2}
EWISE_MODES = {"pass": 0, "add": 1, "max": 2}


@dataclass
class Instr:
    """One instruction; unused fields stay 0. Requantisation: relu, then >> rshift (round half
    even) or << lshift, then saturate to [lo, hi]."""

    op: str
    src: int = 0
    src_b: int = 0
    dst: int = 0
    positions: int = 0
    cin: int = 0  # conv: input channels; ewise: channels of the output
    taps: int = 1
    pad: int = 0
    groups: int = 0
    cout: int = 0
    wbase: int = 0
    bbase: int = 0
    mode: str = "pass"
    rshift: int = 0
    lshift: int = 0
    relu: bool = False
    gain: bool = False  # reads the input spike through the gain stage
    lo: int = 0
    hi: int = 0
    label: str = ""


@dataclass
class Program:
    """Everything the Verilog generator needs: widths, the instruction list, ROM and RAM images."""

    lanes: int
    data_bits: int  # activation RAM word (signed)
    input_bits: int
    weight_bits: int  # one weight / codeword element (signed)
    acc_bits: int
    search_shift: int  # products in the search are shifted left by this
    instrs: list[Instr]
    weight_rom: np.ndarray  # (words, lanes) integer codes
    bias_rom: np.ndarray  # (words, lanes)
    ram_words: int
    input_base: int
    latent_positions: int
    latent_dim: int
    codebook_size: int
    tensors: dict = field(default_factory=dict)  # stored tensor -> (base, words)
    gain: dict | None = None  # the gain stage: trough word, code thresholds, shift of code 0, bits
    input_lo: int = 0
    input_hi: int = 0

    def cycles_per_spike(self) -> int:
        """Clock cycles per spike of the engine (hwcae/rtl/templates/core.v's state machine), input
        and output included: 256 load cycles (+ 3 with a gain stage), then per instruction one fetch cycle and
        conv   positions x groups x (bias + cin x taps + flush + lanes drain)
        search positions x (groups x (bias + cin + flush + argmax) + emit)
        ewise  elements x 3 (read, read, write).
        The RTL simulation measures the same number (tests/rtl)."""
        n = N_SAMPLES * N_CHANNELS + (3 if self.gain else 0)  # gain: read the trough, code; emit the code
        for i in self.instrs:
            if i.op == "conv":
                n += 1 + i.positions * i.groups * (2 + i.cin * i.taps + self.lanes)
            elif i.op == "search":
                n += 1 + i.positions * (i.groups * (3 + i.cin) + 1)
            else:
                n += 1 + 3 * i.positions * i.cin
        return n

    @property
    def memory_bits(self) -> dict:
        """Bits of each memory block (behavioural: not synthesised into logic)."""
        return {"weight_rom": int(self.weight_rom.size * self.weight_bits),
                "bias_rom": int(self.bias_rom.size * self.acc_bits),
                "activation_ram": int(self.ram_words * self.data_bits)}


def _bits_signed(lo: int, hi: int) -> int:
    """Bits of the smallest two's-complement word holding [lo, hi]."""
    return max(int(lo).bit_length() if lo < 0 else 0, int(hi).bit_length()) + 1 if (lo or hi) else 1


def _word_bits(w: Word) -> int:
    return w.bits + (0 if w.signed else 1)


class _Lowering:
    def __init__(self, model: FixedPointModel, lanes: int):
        if lanes < 1:
            raise HwcaeError(f"lanes must be >= 1, got {lanes}")
        self.m, self.lanes = model, lanes
        self.alias: dict[str, str] = {}  # reshape outputs -> the stored tensor they are
        self.instrs: list[Instr] = []
        self.wwords: list[np.ndarray] = []
        self.bwords: list[np.ndarray] = []
        self.exp: dict[str, int] = {"input": model.input.exp}
        self.acc_bound = 0

    def stored(self, name: str) -> str:
        while name in self.alias:
            name = self.alias[name]
        return name

    def readers(self, name: str) -> list:
        return [o for o in self.m.ops if name in (o.srcs if isinstance(o, Add) else (o.src,))]

    def requant(self, word: Word, exp_from: int, relu: bool) -> dict:
        s = word.exp - exp_from
        return {"rshift": max(s, 0), "lshift": max(-s, 0), "relu": relu, "lo": word.lo, "hi": word.hi}

    def range_of(self, name: str) -> tuple[int, int]:
        w = self.m.word_of(name) if name != "input" else self.m.input
        return w.lo, w.hi

    def conv_rows(self, w: np.ndarray, b: np.ndarray) -> tuple[int, int, int]:
        """Append a layer's weight and bias words; returns (wbase, bbase, groups)."""
        cout, cin, k = w.shape
        groups = -(-cout // self.lanes)
        pad = np.zeros((groups * self.lanes, cin, k), np.int64)
        pad[:cout] = w
        bpad = np.zeros(groups * self.lanes, np.int64)
        bpad[:cout] = b
        wbase, bbase = sum(len(x) for x in self.wwords), sum(len(x) for x in self.bwords)
        # word (g, j, c) holds w[g*lanes + l, c, j] for every lane l: taps outer, channels inner
        self.wwords.append(pad.reshape(groups, self.lanes, cin, k).transpose(0, 3, 2, 1).reshape(-1, self.lanes))
        self.bwords.append(bpad.reshape(groups, self.lanes))
        return wbase, bbase, groups

    def lower(self):
        m = self.m
        fused = set()
        for i, op in enumerate(m.ops):
            if id(op) in fused:
                continue
            if isinstance(op, Reshape):
                self.alias[op.dst] = op.src
            elif isinstance(op, Conv):
                if op.groups > 1:
                    raise HwcaeError(f"RTL: layer {op.name} is a grouped convolution ({op.groups} groups), which the lane "
                                     "engine does not run yet; its HLS projects do (make hls), and hwcae cost costs it on "
                                     "hls4ml's per-layer datapath")
                q = self.readers(op.dst)
                if len(q) != 1 or not isinstance(q[0], Quant):
                    raise HwcaeError(f"RTL: layer {op.name}'s accumulator must be read by exactly one requantiser")
                fused.add(id(q[0]))
                lo, hi = self.range_of(op.src)
                self.acc_bound = max(self.acc_bound, int(np.abs(op.b).max(initial=0)
                                                         + max(-lo, hi) * np.abs(op.w).sum(axis=(1, 2)).max()))
                wbase, bbase, groups = self.conv_rows(op.w, op.b)
                p, cin = m.shapes[op.src]
                self.instrs.append(Instr("conv", src=self.stored(op.src), dst=q[0].dst, positions=p, cin=cin,
                                         taps=op.kernel, pad=op.kernel // 2, groups=groups, cout=op.cout,
                                         wbase=wbase, bbase=bbase, label=f"{op.name} -> {q[0].dst}",
                                         **self.requant(q[0].word, op.acc_exp, q[0].relu)))
                self.exp[q[0].dst] = q[0].word.exp
            elif isinstance(op, Add):
                q = self.readers(op.dst)
                if len(q) != 1 or not isinstance(q[0], Quant):
                    raise HwcaeError(f"RTL: the sum {op.dst} must be read by exactly one requantiser")
                fused.add(id(q[0]))
                p, c = m.shapes[op.dst]
                self.instrs.append(Instr("ewise", mode="add", src=self.stored(op.srcs[0]), src_b=self.stored(op.srcs[1]),
                                         dst=q[0].dst, positions=p, cin=c, label=f"{op.dst} -> {q[0].dst}",
                                         **self.requant(q[0].word, self.exp[op.srcs[0]], q[0].relu)))
                self.exp[q[0].dst] = q[0].word.exp
            elif isinstance(op, Quant):
                p, c = m.shapes[op.dst]
                self.instrs.append(Instr("ewise", mode="pass", src=self.stored(op.src), dst=op.dst, positions=p, cin=c,
                                         label=f"{op.src} -> {op.dst}", **self.requant(op.word, self.exp[op.src], op.relu)))
                self.exp[op.dst] = op.word.exp
            elif isinstance(op, MaxPool):
                if op.size != 2:
                    raise HwcaeError(f"RTL: max pooling over {op.size} positions is not supported (only 2)")
                p, c = m.shapes[op.dst]
                w = m.word_of(op.src)
                self.instrs.append(Instr("ewise", mode="max", src=self.stored(op.src), dst=op.dst, positions=p, cin=c,
                                         label=f"maxpool {op.src} -> {op.dst}", lo=w.lo, hi=w.hi))
                self.exp[op.dst] = self.exp[op.src]
            else:  # pragma: no cover
                raise HwcaeError(f"RTL: unsupported operation {op!r}")
        self.lower_search()

    def lower_search(self):
        cb, ez = self.m.search, self.m.latent_word.exp
        m_exp = min(ez + cb.exp, 2 * cb.exp - 1)
        a, b = ez + cb.exp - m_exp, 2 * cb.exp - 1 - m_exp
        norm = (cb.codebook.astype(np.int64) ** 2).sum(1)
        wbase, bbase, groups = self.conv_rows(cb.codebook[:, :, None], -(norm << b))
        p, d = self.m.shapes[self.m.latent]
        self.search_shift = a
        lo, hi = self.range_of(self.m.latent)
        self.acc_bound = max(self.acc_bound, int(norm.max() << b) + (max(-lo, hi) * int(np.abs(cb.codebook).sum(1).max()) << a))
        self.instrs.append(Instr("search", src=self.stored(self.m.latent), positions=p, cin=d, groups=groups,
                                 cout=cb.size, wbase=wbase, bbase=bbase, label="codeword search"))


def _allocate(instrs: list[Instr], input_words: int) -> tuple[dict, int]:
    """Activation-RAM regions by liveness, first fit: tensor -> (base, words); and the RAM depth."""
    size = {"input": input_words}
    born, last = {"input": -1}, {}
    for i, ins in enumerate(instrs):
        for s in (ins.src, ins.src_b) if ins.op == "ewise" and ins.mode == "add" else (ins.src,):
            last[s] = i
        if ins.op != "search":
            size[ins.dst] = ins.positions * (ins.cout if ins.op == "conv" else ins.cin)
            born[ins.dst] = i
    live: list[tuple[int, int, str]] = []  # (base, words, tensor)
    place, depth = {}, 0
    for name in sorted(born, key=born.get):
        t = born[name]
        live = [x for x in live if last.get(x[2], t) >= t]  # a tensor read by this instruction is still live
        base = 0
        for lb, lw, _ in sorted(live):
            if base + size[name] <= lb:
                break
            base = max(base, lb + lw)
        place[name] = (base, size[name])
        live.append((base, size[name], name))
        depth = max(depth, base + size[name])
    return place, depth


def lower(model: FixedPointModel, lanes: int = 16) -> Program:
    """The datapath program of ``model`` on ``lanes`` MAC units."""
    low = _Lowering(model, lanes)
    low.lower()
    place, depth = _allocate(low.instrs, N_SAMPLES * N_CHANNELS)
    for ins in low.instrs:
        ins.gain = model.gain is not None and ins.src == "input"
        if ins.gain and ins.op != "conv":
            raise HwcaeError("RTL: the gain stage must feed a convolution or dense layer")
        ins.src, ins.src_b = place[ins.src][0], place[ins.src_b][0] if ins.mode == "add" else 0
        ins.dst = place[ins.dst][0] if ins.op != "search" else 0
    data_bits = max([_word_bits(model.input)] + [_word_bits(w) for w in model.words().values()])
    weight_bits = max([c.w_bits for c in model.convs()] + [model.search.bits])
    wrom, brom = np.concatenate(low.wwords), np.concatenate(low.bwords)
    acc_bits = max(_bits_signed(-low.acc_bound, low.acc_bound), _bits_signed(int(brom.min()), int(brom.max())),
                   data_bits + weight_bits + 1)  # + 1: the Verilog sign-extends every product
    return Program(lanes=lanes, data_bits=data_bits, input_bits=model.input.bits, weight_bits=weight_bits,
                   acc_bits=acc_bits, search_shift=low.search_shift, instrs=low.instrs, weight_rom=wrom,
                   bias_rom=brom, ram_words=depth, input_base=place["input"][0],
                   latent_positions=model.latent_positions, latent_dim=model.search.dim,
                   codebook_size=model.search.size, tensors=place, gain=_gain(model, place["input"][0]),
                   input_lo=model.input.lo, input_hi=model.input.hi)


def _gain(model: FixedPointModel, input_base: int) -> dict | None:
    """The gain stage in ADC codes (hwcae.fixedpoint.gain): code = #{k >= 1: trough >= min x 2^k}
    (clipped to the code's range), shift of the input words = log2(target / min) - code."""
    g = model.gain
    if g is None:
        return None
    s0 = np.log2(g.target_uv / g.min_uv)
    if s0 != int(s0) or s0 < 0:
        raise HwcaeError(f"RTL: gain target / min must be a power of two >= 1, got {g.target_uv / g.min_uv:g}")
    step_uv = model.input_scale_uv * 2.0**model.input.exp
    thresholds = [int(np.ceil(g.min_uv * 2.0**k / step_uv)) for k in range(1, 2**g.bits)]
    return {"index": input_base + PEAK_SAMPLE * N_CHANNELS, "thresholds": thresholds, "shift0": int(s0), "bits": g.bits}
