"""Per-design, per-node cost reports: a Markdown page, a CSV of layers and a PNG of plots."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from hwcae.cost.estimate import Budget, estimate
from hwcae.fileio import atomic_path, write_text_atomic


def cost_for_checkpoint(path: str, tech_name: str, budget: Budget, hls_reuse: int | None = None) -> dict:
    from hwcae.cost.estimate import layers_from_fixed_point
    from hwcae.cost.tech import load_tech
    from hwcae.quantize.extract import extract
    from hwcae.quantize.qat import load_qat

    model, arch, design, payload = load_qat(path)
    fixed = extract(model.encoder)
    layers = layers_from_fixed_point(fixed)
    tech = load_tech(tech_name)
    note = ""
    if budget.lanes and any(c.groups > 1 for c in fixed.convs()):
        note = ("grouped convolutions: hwcae's RTL engine does not run them, so this is hls4ml's per-layer "
                f"datapath at reuse {budget.reuse} (the HLS projects' own), not the RTL engine")
        budget = replace(budget, lanes=None)
    engine = rtl_engine(fixed, design.name, tech, budget.lanes) if budget.lanes else None
    # the on-chip Huffman coder's tables (one code length per codeword and position) are ROM too:
    # counted before the limits, so the area limit and the area reported are one number
    from hwcae.codec.entropy import HuffmanCoder

    table_bits = HuffmanCoder(payload["index_counts"]).table_bits
    result = estimate(layers, tech, budget, arch.bits_per_spike_fixed, engine=engine, extra_sram_bits=table_bits)
    if engine:
        result["rtl"] = engine
    result["huffman_table_bits"] = table_bits
    result.update(design=design.name, checkpoint=str(path), _layers=layers, datapath_note=note,
                  accumulator_bits_needed=max(r["acc_bits"] for r in result["layers"]),
                  accumulator_bits_design=design.accumulator_bits)
    return result


#: Where the cost looks for a design's RTL build (``<design>/rtl``, as ``hwcae rtl`` writes it), relative
#: to the project root; without one it falls back to the estimate.
RTL_BUILD_DIR = Path("hls/build")


def rtl_engine(fixed, design: str, tech, lanes: int, build_dir: Path = RTL_BUILD_DIR) -> dict:
    """Gates, cycles and memory of hwcae's RTL engine for ``fixed`` at ``lanes``: measured (Yosys
    NAND2 equivalents, Verilator cycles) where ``hwcae rtl`` built this design at these lanes, else
    estimated (:mod:`hwcae.cost.datapath`, :meth:`hwcae.rtl.schedule.Program.cycles_per_spike`)."""
    from hwcae.cost.datapath import compare_blocks, estimate_blocks, load_rtl_build
    from hwcae.rtl.schedule import lower
    from hwcae.rtl.verilog import widths

    prog = lower(fixed, lanes)
    w = widths(prog)
    out = {"lanes": lanes, "cycles": prog.cycles_per_spike(), "sram_bits": sum(prog.memory_bits.values()),
           "memory_bits": prog.memory_bits, "multipliers": lanes, "measured": False,
           "source": "estimated (no RTL build)"}
    blocks = estimate_blocks(w, tech)
    out["gates_ge"] = sum(blocks.values())
    out["blocks"] = [{"block": k, "estimated_ge": round(v)} for k, v in blocks.items()]
    build = load_rtl_build(build_dir / design / "rtl")
    if build and build["verify"].get("widths") == w and build["verify"]["rtl_vs_reference"]["spikes_all_exact"] == 1.0:
        out.update(gates_ge=build["synth"]["nand2_eq"], cycles=build["verify"]["cycles_per_spike"],
                   blocks=compare_blocks(build, tech), estimated_gates_ge=out["gates_ge"], measured=True,
                   source=f"measured: Yosys netlist and Verilator cycles ({build_dir / design / 'rtl'})")
    return out


def overview(results: list[dict]) -> pd.DataFrame:
    """One row per design x node: what ``hwcae cost --all`` prints."""
    return pd.DataFrame([{"design": r["design"], "node": r["tech"], "MACs/spike": r["macs_per_spike"],
                          "datapath": f"RTL engine, {r['rtl']['lanes']} lanes" if "rtl" in r else f"hls4ml, reuse {r['budget']['reuse']}",
                          "NAND2 eq": round(r["gates_ge"]),
                          "area/instance mm^2": round(r["area_mm2"], 3), "spikes/s/instance": round(r["spikes_per_s_per_instance"]),
                          "uW/channel": round(r["power_per_channel_uw"], 2), "capacity (channels)": r["channel_capacity"],
                          "binding limit": r["binding_limit"]} for r in results])


def table(result: dict) -> pd.DataFrame:
    """Per layer and in total. With the RTL engine the per-layer multipliers, gates, cycles and SRAM
    of hls4ml's datapath do not apply (the engine's lanes serve every layer): only totals show them."""
    df = pd.DataFrame(result["layers"])
    total = {"layer": "total", **{k: result[k] for k in ("macs", "multipliers", "cycles", "gates_ge", "sram_bits",
                                                         "energy_compute_pj", "energy_memory_pj")}}
    if "rtl" in result:
        df = df.drop(columns=["multipliers", "cycles", "gates_ge", "sram_bits"])
        total["layer"] = f"total ({result['rtl']['lanes']}-lane engine)"
    return pd.concat([df, pd.DataFrame([total])], ignore_index=True)


def operating_point(r: dict) -> str:
    """The assumptions every figure rests on, in one line."""
    b = r["budget"]
    arch = (f"hwcae's {r['rtl']['lanes']}-lane RTL engine (gates {'measured' if r['rtl']['measured'] else 'estimated'})"
            if "rtl" in r else f"hls4ml's per-layer datapath at reuse {b['reuse']}")
    return (f"operating point: {b['channels']:,} channels at {b['rate_hz']:g} spikes/s, clock {b['clock_hz'] / 1e6:g} MHz, "
            f"{arch}, radio {b['radio_pj_per_bit']:g} pJ/bit, budgets {b['power_budget_mw']:g} mW / "
            f"{b['area_budget_mm2']:g} mm^2 / {b['link_bps'] / 1e6:g} Mb/s link")


def summary_lines(r: dict) -> list[str]:
    b = r["power_breakdown_uw"]
    return [
        operating_point(r), *([f"note: {r['datapath_note']}"] if r.get("datapath_note") else []),
        f"design {r['design']} at {r['tech']}: {r['macs_per_spike']:,} MACs/spike, {r['gates_ge']:,.0f} GE, "
        f"{r['sram_bits']:,} SRAM bits, {r['area_mm2']:.3f} mm^2",
        f"energy per spike {r['energy_per_spike_pj']:,.0f} pJ (dynamic {r['energy_dynamic_pj']:,.0f}, leakage share "
        f"{r['energy_leakage_pj']:,.1f}); one instance serves {r['spikes_per_s_per_instance']:,.0f} spikes/s; "
        f"{r['instances']} instance(s), {r['total_area_mm2']:.3f} mm^2 in all",
        f"power per channel {r['power_per_channel_uw']:.3f} uW = compute {b['compute_uw']:.3f} + memory "
        f"{b['memory_uw']:.3f} + leakage {b['leakage_uw']:.4f} + radio {b['transmission_uw']:.3f} "
        f"(raw spikes {r['raw_spikes_power_per_channel_uw']:.2f} uW, raw stream {r['raw_stream_power_per_channel_uw']:.1f} uW)",
        f"channel capacity {r['channel_capacity']:,} (binding limit: {r['binding_limit']}; "
        + ", ".join(f"{k} {('unbounded' if v is None else f'{v:,.0f}')}" for k, v in r["limits"].items()) + ")",
    ]


def report_paths(out_dir: str | Path, design: str, node: str) -> list[Path]:
    """The files :func:`write_report` writes for ``design`` at ``node`` (to check them before any is written)."""
    stem = Path(out_dir) / f"{design}-{node}"
    return [stem.with_suffix(s) for s in (".md", ".csv", ".png")]


def write_report(r: dict, out_dir: str | Path, budget: Budget) -> list[Path]:
    """<design>-<node>.md / .csv / .png in ``out_dir`` (:func:`report_paths`), each replaced atomically."""
    md_path, csv_path, png_path = paths = report_paths(out_dir, r["design"], r["tech"])
    df = table(r)
    with atomic_path(csv_path) as tmp:
        df.to_csv(tmp, index=False)
    md = [f"# Cost: {r['design']} at {r['tech']}", "", *[f"- {line}" for line in summary_lines(r)], "",
          df.to_markdown(index=False, floatfmt=",.4g"), ""]
    write_text_atomic(md_path, "\n".join(md))
    plot(r, budget, png_path)
    return paths


LABELS = {"compute_uw": "compute", "memory_uw": "memory\n(weight reads)", "leakage_uw": "leakage", "transmission_uw": "radio"}


def plot(r: dict, budget: Budget, path: Path) -> None:
    """Four panels, one question each: where a channel's microwatts go; total power vs channel
    count against the budget; power per channel vs firing rate; channel capacity vs power budget."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 4, figsize=(17, 4))
    fig.suptitle(f"{r['design']} at {r['tech']}, {budget.clock_hz / 1e6:g} MHz, {budget.channels:,} channels at "
                 f"{budget.rate_hz:g} spikes/s, radio {budget.radio_pj_per_bit:g} pJ/bit", fontsize=10)
    _breakdown(ax[0], r)
    chans = [64, 128, 256, 512, 1024, 2048, 4096, 8192]
    ax[1].plot(chans, [r2["power_per_channel_uw"] * c / 1e3 for c, r2 in _sweep(r, budget, "channels", chans)], "o-",
               c="#37a", label="encoders + radio")
    ax[1].axhline(budget.power_budget_mw, ls=":", c="k", lw=1, label=f"power budget {budget.power_budget_mw:g} mW")
    ax[1].set(xscale="log", xlabel="channels", ylabel="total power (mW)", title="total power vs channels")
    ax[1].set_xscale("log", base=2)
    ax[1].legend(fontsize=8)
    rates = [5, 10, 20, 50, 100, 200]
    ax[2].plot(rates, [r2["power_per_channel_uw"] for _, r2 in _sweep(r, budget, "rate_hz", rates)], "s-", c="#a37")
    ax[2].set(xlabel="firing rate (spikes/s per channel)", ylabel="power per channel (uW)",
              title="power per channel vs firing rate")
    budgets = [1, 2, 5, 10, 20, 50]
    ax[3].plot(budgets, [r2["channel_capacity"] for _, r2 in _sweep(r, budget, "power_budget_mw", budgets)], "o-", c="#3a7")
    ax[3].set(xlabel="power budget (mW)", ylabel="channel capacity (channels)",
              title=f"capacity (area {budget.area_budget_mm2:g} mm^2, link {budget.link_bps / 1e6:g} Mb/s)")
    for a in ax:
        a.title.set_fontsize(9)
        a.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def _breakdown(ax, r: dict) -> None:
    """Bars of uW per channel by part, each labelled, beside the radio cost of raw spikes."""
    b = r["power_breakdown_uw"]
    bars = ax.bar([LABELS.get(k, k) for k in b], list(b.values()), color=["#37a", "#7a3", "#aa3", "#a37"])
    ax.bar_label(bars, fmt="%.2f", fontsize=8)
    ax.set_ylabel("power per channel (uW)")
    ax.set_title(f"{r['power_per_channel_uw']:.2f} uW per channel; raw spikes over the radio: "
                 f"{r['raw_spikes_power_per_channel_uw']:.1f} uW")
    ax.set_ylim(0, max(b.values()) * 1.25)


def _sweep(r: dict, budget: Budget, field: str, values: list):
    """Re-estimate with one budget field varied (same layers, node and datapath as the result)."""
    from hwcae.cost.tech import load_tech

    tech = load_tech(r["tech"])
    for v in values:
        yield v, estimate(r["_layers"], tech, replace(budget, **{field: v}), r["bits_per_spike"], engine=r.get("rtl"),
                          extra_sram_bits=r.get("huffman_table_bits", 0))
