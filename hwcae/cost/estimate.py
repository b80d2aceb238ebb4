"""Cost of a fixed-point encoder: MACs, gates, SRAM, energy per spike, power per channel, capacity.

The datapath model (stated, simple, every number traceable):

- each layer computes one output position per pass with ``ceil(in x out x k / reuse)`` multipliers
  (hls4ml's reuse factor) and an adder per multiplier, so a layer takes ``positions x reuse``
  cycles and one encoder instance serves ``clock / sum(cycles)`` spikes per second;
- energy per spike = multiplies (bit-width product) + accumulations (accumulator width) + a weight
  read from SRAM per MAC (no weight-stationary reuse) + activations written and read once in
  registers + the codeword search's comparisons (with reuse 1 the weights are wired-in constants
  and cost no reads); leakage is the instance's static power over the
  spikes it serves;
- power per channel = rate x energy per spike + the instance's leakage shared by its channels +
  rate x transmitted bits x radio energy per bit.

That per-layer datapath is hls4ml's (every layer its own multipliers). With ``Budget.lanes`` set,
gates, cycles and memory bits are instead those of hwcae's RTL engine (``lanes`` MAC units shared
by every layer, :mod:`hwcae.cost.datapath`): estimated from the widths, or measured by Yosys and
Verilator where ``hwcae rtl`` has built the design (``engine=``).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from hwcae import RAW_BITS_PER_SPIKE
from hwcae.cost.tech import Tech
from hwcae.fixedpoint.graph import FixedPointModel


@dataclass
class Layer:
    name: str
    cin: int
    cout: int
    kernel: int
    positions: int  # output positions (latent positions for the codeword search)
    w_bits: int
    in_bits: int
    bias_bits: int = 0
    out_bits: int = 0  # activation word written after the layer
    role: str = "weights"  # weights (a conv or dense layer) | search (codeword search) | gain (gain stage)
    groups: int = 1  # a grouped convolution: each output reads cin / groups inputs
    shared: bool = False  # a second use of another layer's weights (stored once, with that layer)

    @property
    def fan_in(self) -> int:
        """Products per output value."""
        return self.cin // self.groups * self.kernel

    @property
    def weights(self) -> int:
        return self.fan_in * self.cout

    @property
    def macs(self) -> int:
        return 0 if self.role == "gain" else self.weights * self.positions

    @property
    def acc_bits(self) -> int:
        """Exact accumulator width: product bits + growth of the sum (+1 for the bias)."""
        return self.w_bits + self.in_bits + math.ceil(math.log2(self.fan_in)) + (1 if self.bias_bits else 0)


def layers_from_fixed_point(model: FixedPointModel) -> list[Layer]:
    """The encoder's layers, walked from the typed integer model: each weight layer reads its
    source tensor's word and stores its result in the word of the quantiser that reads it."""
    layers = []
    if model.gain is not None:  # a leading-one detector on the trough word, a barrel shift per input word
        bits = model.input.bits
        layers.append(Layer("gain stage", 256, 1, 1, 1, 0, bits, 0, bits, role="gain"))
    for c in model.convs():
        out = model.reader_word(c.dst)
        layers.append(Layer(c.name, c.cin, c.cout, c.kernel, model.shapes[c.dst][0], c.w_bits,
                            model.word_of(c.src).bits, model.bias_bits, out.bits if out else 0,
                            groups=c.groups, shared=bool(c.shares)))
    s = model.search
    layers.append(Layer("codeword search", s.dim, s.size, 1, model.latent_positions, s.bits,
                        model.latent_word.bits, 2 * s.bits + 1, 0, role="search"))
    return layers


def gain_cost(layer: Layer, tech: Tech) -> dict:
    """The gain stage: each of the 256 input words passes a barrel shifter (3 mux levels for 8
    shifts) as it is read into the encoder (no extra cycles); one leading-one detector; the 3-bit
    exponent register. Energy: one register read and write per word plus the shifter's muxes."""
    shift_levels = 3
    gates = tech.ge_per_adder_bit * layer.in_bits * shift_levels + tech.ge_per_adder_bit * layer.in_bits
    gates += tech.ge_per_flipflop * shift_levels
    energy = layer.cin * (tech.reg_pj_per_bit * 2 * layer.in_bits + tech.add_pj_per_bit * layer.in_bits * shift_levels / 2)
    return {"layer": layer.name, "macs": 0, "multipliers": 0, "mult_bits": "-", "acc_bits": 0, "cycles": 0,
            "gates_ge": gates, "sram_bits": 0, "energy_compute_pj": energy, "energy_memory_pj": 0.0}


def layer_cost(layer: Layer, tech: Tech, reuse: int) -> dict:
    if layer.role == "gain":
        return gain_cost(layer, tech)
    mults = math.ceil(layer.weights / reuse)
    e_mac = tech.mult_pj_per_bit2 * layer.w_bits * layer.in_bits + tech.add_pj_per_bit * layer.acc_bits
    # fully unrolled (reuse 1): weights are constants wired into the multipliers, never read;
    # otherwise each use reads the weight from on-chip SRAM
    e_weights = 0.0 if reuse == 1 else tech.sram_pj_per_bit * layer.w_bits * layer.macs
    act_bits = layer.cout * layer.positions * layer.out_bits + layer.cin * layer.positions * layer.in_bits
    e_acts = tech.reg_pj_per_bit * act_bits
    e_search = 0.0
    if layer.role == "search":  # argmax: one comparison of score width per codeword and position
        e_search = tech.add_pj_per_bit * layer.acc_bits * layer.cout * layer.positions
    weight_bits = (0 if layer.shared else layer.weights * layer.w_bits) + layer.cout * layer.bias_bits
    gates = mults * (tech.ge_per_mult_bit2 * layer.w_bits * layer.in_bits + tech.ge_per_adder_bit * layer.acc_bits)
    gates += tech.ge_per_flipflop * layer.cout * layer.positions * layer.out_bits  # output activation registers
    if layer.role == "search":
        gates += tech.ge_per_adder_bit * layer.acc_bits + tech.ge_per_flipflop * (layer.acc_bits + 8)
    return {
        "layer": layer.name, "macs": layer.macs, "multipliers": mults, "mult_bits": f"{layer.w_bits}x{layer.in_bits}",
        "acc_bits": layer.acc_bits, "cycles": layer.positions * min(reuse, layer.weights),
        "gates_ge": gates, "sram_bits": weight_bits,
        "energy_compute_pj": layer.macs * e_mac + e_search, "energy_memory_pj": e_weights + e_acts,
    }


@dataclass
class Budget:
    channels: int = 1024
    rate_hz: float = 50.0
    radio_pj_per_bit: float = 130.0  # implanted FSK/OOK: 1.05 mW at 8 Mb/s (hardware-figures.md)
    sample_rate_hz: float = 30000.0  # for the raw continuous stream comparison
    clock_hz: float = 20e6
    reuse: int = 16
    lanes: int | None = None  # None: hls4ml's per-layer datapath at `reuse`; else hwcae's RTL engine
    instances: int | None = None  # encoder instances; None: as many as the channels' spike rate needs
    power_budget_mw: float = 10.0
    area_budget_mm2: float = 4.0  # about one ECON-T die (3.6 mm^2)
    tissue_area_mm2: float = 16.0  # tissue-facing implant area (4 mm x 4 mm)
    heat_flux_mw_per_mm2: float = 0.8  # project limit (issue 7): ~80 mW/cm^2 keeps tissue heating near 1 C
    link_bps: float = 10e6

    @classmethod
    def at_operating_point(cls, op=None, **overrides) -> "Budget":
        """The budget of ``hls/operating_point.yaml`` (or ``op``) on hwcae's RTL engine at
        ``hls/rtl.yaml``'s lanes, with ``overrides`` (None = keep; ``lanes=None`` = hls4ml's datapath)."""
        from hwcae.operating_point import load_operating_point
        from hwcae.rtl.flow import load_rtl_config

        op = op or load_operating_point()
        fields = dict(lanes=load_rtl_config().lanes, channels=op.channels, rate_hz=op.rate_hz, radio_pj_per_bit=op.radio_pj_per_bit,
                      sample_rate_hz=op.sample_rate_hz, clock_hz=op.clock_hz, power_budget_mw=op.power_budget_mw,
                      area_budget_mm2=op.area_budget_mm2, link_bps=op.link_mbps * 1e6)
        fields.update({k: v for k, v in overrides.items() if v is not None or k == "lanes"})
        return cls(**fields)


def estimate(layers: list[Layer], tech: Tech, budget: Budget, bits_per_spike: float, engine: dict | None = None,
             extra_sram_bits: int = 0) -> dict:
    """Everything per spike, per instance and per channel. ``engine`` (``gates_ge``, ``cycles``,
    ``sram_bits``, ``multipliers``) replaces the per-layer datapath's totals (the RTL engine's);
    ``extra_sram_bits`` (e.g. the on-chip coder's tables) join the memory, its area and the area limit."""
    rows = [layer_cost(layer, tech, budget.reuse) for layer in layers]
    total = {k: sum(r[k] for r in rows) for k in ("macs", "multipliers", "cycles", "gates_ge", "sram_bits",
                                                   "energy_compute_pj", "energy_memory_pj")}
    if engine:
        total.update({k: engine[k] for k in ("gates_ge", "cycles", "sram_bits", "multipliers")})
    total["sram_bits"] += extra_sram_bits
    sram_area_mm2 = total["sram_bits"] * tech.sram_cell_um2 / tech.sram_array_efficiency * 1e-6
    logic_area_mm2 = total["gates_ge"] * tech.ge_area_um2 * 1e-6
    area_mm2 = logic_area_mm2 + sram_area_mm2
    sps = budget.clock_hz / total["cycles"]  # spikes per second one instance serves
    spikes_per_s = budget.channels * budget.rate_hz
    instances = budget.instances or max(1, math.ceil(spikes_per_s / sps))
    leak_uw = total["gates_ge"] * tech.leakage_nw_per_ge * 1e-3 * instances
    e_dyn = total["energy_compute_pj"] + total["energy_memory_pj"]
    e_leak = leak_uw * 1e-6 / max(spikes_per_s, 1e-12) * 1e12
    tx_uw = budget.rate_hz * bits_per_spike * budget.radio_pj_per_bit * 1e-6
    dyn_uw = budget.rate_hz * e_dyn * 1e-6
    per_channel = {"compute_uw": budget.rate_hz * total["energy_compute_pj"] * 1e-6,
                   "memory_uw": budget.rate_hz * total["energy_memory_pj"] * 1e-6,
                   "leakage_uw": leak_uw / budget.channels, "transmission_uw": tx_uw}
    p_ch = sum(per_channel.values())
    raw_spikes_uw = budget.rate_hz * RAW_BITS_PER_SPIKE * budget.radio_pj_per_bit * 1e-6
    raw_stream_uw = budget.sample_rate_hz * 16 * budget.radio_pj_per_bit * 1e-6
    leak_inst_uw = total["gates_ge"] * tech.leakage_nw_per_ge * 1e-3
    if budget.instances:  # fixed hardware: its leakage is paid whatever the channel count
        fixed_uw, per_ch = leak_uw, dyn_uw + tx_uw
    else:  # instances grow with channels: each channel carries rate/sps of an instance's leakage
        fixed_uw, per_ch = 0.0, dyn_uw + tx_uw + leak_inst_uw * budget.rate_hz / sps
    limits = {
        "power": max(0.0, budget.power_budget_mw * 1e3 - fixed_uw) / per_ch,
        "heat": max(0.0, budget.heat_flux_mw_per_mm2 * budget.tissue_area_mm2 * 1e3 - fixed_uw) / per_ch,
        "bandwidth": budget.link_bps / (budget.rate_hz * bits_per_spike),
        # a fixed instance count caps the spike rate; otherwise instances are added until the area budget is spent
        "throughput": budget.instances * sps / budget.rate_hz if budget.instances else math.inf,
        "area": math.floor(budget.area_budget_mm2 / area_mm2) * sps / budget.rate_hz,
    }
    binding = min(limits, key=lambda k: limits[k])
    return {
        "tech": tech.node, "layers": rows, **total, "macs_per_spike": total["macs"],
        "energy_per_spike_pj": e_dyn + e_leak, "energy_dynamic_pj": e_dyn, "energy_leakage_pj": e_leak,
        "area_mm2": area_mm2, "logic_area_mm2": logic_area_mm2, "sram_area_mm2": sram_area_mm2,
        "leakage_uw": leak_uw, "spikes_per_s_per_instance": sps, "instances": instances,
        "total_area_mm2": area_mm2 * instances,
        "power_per_channel_uw": p_ch, "power_breakdown_uw": per_channel,
        "raw_spikes_power_per_channel_uw": raw_spikes_uw, "raw_stream_power_per_channel_uw": raw_stream_uw,
        "bits_per_spike": bits_per_spike, "channel_capacity": int(max(0.0, min(limits.values()))),
        "limits": {k: (None if math.isinf(v) else float(v)) for k, v in limits.items()}, "binding_limit": binding,
        "budget": asdict(budget),
    }
