"""The report's HTML page: figures with captions saying what was measured on what data, the
statements derived from the numbers, and small tables. Plain HTML, no external assets."""
from __future__ import annotations

import html

CSS = """body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;color:#222;padding:0 1em}
figure{margin:1.5em 0}figcaption{font-size:.9em;color:#444;max-width:1000px}img{max-width:100%}
table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3}li{margin:.3em 0}.small{font-size:.85em;color:#555}"""

# marks each image loaded or broken; a headless browser test reads the verdict from #img-status
SCRIPT = """<script>
window.addEventListener('load', function () {
  var imgs = Array.from(document.images), ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; });
  document.getElementById('img-status').textContent = 'images loaded: ' + ok.length + '/' + imgs.length;
});
</script>"""


def _e(x) -> str:
    return html.escape(str(x))


def _fig(name: str | None, caption: str) -> str:
    if not name:
        return ""
    return f'<figure><img src="{_e(name)}" alt="{_e(caption[:80])}"><figcaption>{_e(caption)}</figcaption></figure>'


def _table(rows: list[dict], cols: list[tuple[str, str, str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h, _, _ in cols)
    body = ""
    for r in rows:
        cells = []
        for _, key, fmt in cols:
            v = r.get(key)
            cells.append("<td>-</td>" if v is None else f"<td>{_e(format(v, fmt) if fmt else v)}</td>")
        body += "<tr>" + "".join(cells) + "</tr>"
    return f"<table><tr>{head}</tr>{body}</table>"


def explore_summary(out_dir) -> dict | None:
    """The design-space search's front as data (``<out>/explore/front.json`` from ``hwcae explore``), if run."""
    import json
    from pathlib import Path

    f = Path(out_dir) / "explore" / "front.json"
    if not f.is_file():
        return None
    d = json.loads(f.read_text())
    keep = ("id", "sndr_db", "pca_db", "uw_per_channel", "area_mm2", "encoder", "bits", "lanes", "clock_mhz", "node")
    return {"study": d["study"], "counts": d["counts"], "operating_point": d["operating_point"],
            "quality_sets": d["quality_sets"], "front": [{k: r.get(k) for k in keep} for r in d["front"]],
            "committed": [{k: p.get(k) for k in ("design", "sndr_db", "uw_per_channel", "area_mm2", "placement")}
                          for p in d["committed"]], "figure": "explore/front.png" if (f.parent / "front.png").is_file() else None}


def _explore(x: dict | None) -> str:
    if not x:
        return ""
    op = x["operating_point"]
    return ("<h2>Design-space search</h2>" + _fig(x["figure"], (
        f"Study {x['study']} (hwcae explore): {x['counts']['COMPLETE']} complete and {x['counts']['FAIL']} failed trials; "
        f"SNDR vs clean on {', '.join(x['quality_sets'])} against power per channel at {op['channels']} channels and "
        f"{op['rate_hz']:g} spikes/s, area as colour; circles: the Pareto front; stars: the committed designs.")) + _table(
        x["front"], [("trial", "id", ""), ("SNDR dB", "sndr_db", ".2f"), ("PCA dB", "pca_db", ".2f"),
                     ("uW/channel", "uw_per_channel", ".3g"), ("area mm2", "area_mm2", ".3g"), ("encoder", "encoder", ""),
                     ("bits in/w/a/z/cb", "bits", ""), ("lanes", "lanes", ""), ("MHz", "clock_mhz", "g")])
        + "<ul>" + "".join(f"<li>{_e(p['design'])}: {p['sndr_db']:.2f} dB, {p['uw_per_channel']:.3g} uW/channel, "
                           f"{p['area_mm2']:.3g} mm2; {_e(p['placement'])}</li>" for p in x["committed"]) + "</ul>")


def _rd_table(d: dict) -> str:
    """One data set's rate-distortion points, with the same bits on the 12- and 10-bit footings."""
    rows = [{**p, "method": f"CAE {p['name']}"} for p in d["rd"]["cae"]]
    rows += [{**p, "method": f"seed's shape {p['name']}"} for p in d.get("rd_seed", {}).get("cae", [])]
    for b in ("pca", "dwt", "cs"):
        rows += [{**p, "method": b.upper()} for p in d["rd"][b]]
    for p in rows:  # the same bits on the other footings: 12- and 10-bit snippets (x 12/16, 10/16)
        p.update(cr12=p["cr_fixed"] * 12 / 16, cr10=p["cr_fixed"] * 10 / 16)
    return f"<h3>{_e(d['source'])}</h3>" + _table(rows, [
        ("method", "method", ""), ("bits/spike", "bits_per_spike", ".0f"), ("CR vs 16-bit", "cr_fixed", ".1f"),
        ("CR vs 12-bit", "cr12", ".1f"), ("CR vs 10-bit", "cr10", ".1f"),
        ("CR bytes (.hwc, vs 16-bit)", "cr_bytes", ".1f"), ("SNDR dB", "sndr_db_mean", ".2f")])


def _footings(f: dict | None) -> str:
    """The default design's compression ratio on every footing (bits counted three ways)."""
    if not f:
        return ""
    frows = [{"way": k, **v} for k, v in f["rows"].items()]
    return "<h3>Compression ratio on every footing</h3><p class='small'>" + _e(
        f"The default design ({f['design']}) on {f['source']}: bits per spike counted three ways, against 4 x 64 "
        f"snippets of 16-, 12- and 10-bit samples and against the raw stream one channel would otherwise send "
        f"({f['sample_rate_hz'] / 1e3:g} kHz x 12 bits at {f['rate_hz']:g} spikes/s per channel, hls/operating_point.yaml); "
        "only the .hwc row counts spike times and channels.") + "</p>" + _table(frows, [
            ("bits counted", "way", ""), ("bits/spike", "bits_per_spike", ".1f"), ("vs 16-bit", "cr_snippet16", ".1f"),
            ("vs 12-bit", "cr_snippet12", ".1f"), ("vs 10-bit", "cr_snippet10", ".1f"), ("vs raw stream", "cr_stream", ".1f")])


def _seed_arch(rows: list[dict], costs: list[dict], source: str, n: int) -> str:
    """The seed's own model beside the default: float and w8a8, PCA, and each design's cost."""
    if not rows:
        return ""
    return ("<h2>The seed's own model</h2><p class='small'>" + _e(
        f"The seed's shape (paper: 256-channel stem, one ResNeXt bottleneck of cardinality 32 applied twice with "
        f"shared weights, 16 x 16-dim latent, 128 codewords) beside the default, each in float and at w8a8 (bit-accurate "
        f"reference encoder), on the same {n:,} held-out {source} spikes; PCA fitted on the first half. SNDR vs the clean "
        "twin two ways: mean per spike over all four channels, and the seed code's per-channel form.") + "</p>"
        + _table(rows, [("model", "model", ""), ("", "kind", ""), ("bits/spike", "bits_per_spike", ".0f"),
                        ("MACs/spike", "macs_per_spike", ","), ("SNDR dB", "sndr_db", ".2f"),
                        ("per-channel SNDR dB", "sndr_channel_db", ".2f")])
        + ("<p class='small'>" + _e("Cost of each w8a8 design at the operating point on hls4ml's per-layer datapath "
                                   "(the only one that runs grouped convolutions, so both rows are alike):") + "</p>"
           + _table(costs, [("model", "model", ""), ("design", "design", ""), ("node", "node", ""),
                            ("MACs/spike", "macs_per_spike", ","), ("NAND2 eq", "gates_ge", ",.0f"),
                            ("SRAM bits", "sram_bits", ","), ("mm^2/instance", "area_mm2", ".3f"),
                            ("uW/channel", "power_per_channel_uw", ".2f"), ("channels", "channel_capacity", ","),
                            ("binding", "binding_limit", "")]) if costs else ""))


def render(r: dict) -> str:
    figs = r["figures"]
    specs = list(r["data"])
    main = r["data"][specs[0]]
    parts = [f"<h1>hwcae report</h1><p class='small'>generated {_e(r['generated'])}"
             f"{' (--quick: subsampled, for a smoke test)' if r['quick'] else ''}; checkpoints "
             + ", ".join(f"{_e(k)} {_e(v)}" for k, v in r["checkpoints"].items()) + "</p>",
             "<p id='img-status'>images: not checked (JavaScript off)</p>"]
    parts.append("<h2>Where the CAE wins and where it does not</h2>")
    for spec in specs:
        d = r["data"][spec]
        parts.append(f"<h3>{_e(d['source'])}</h3><ul>" + "".join(f"<li>{_e(s)}</li>" for s in d["statements"]) + "</ul>")
    srcs = "; ".join(f"{r['data'][s]['source']}: {r['data'][s]['scored_spikes']:,} spikes scored, baselines fitted on "
                     f"{r['data'][s]['fit_spikes']:,} spikes of other recordings" for s in specs)
    parts.append("<h2>Rate-distortion</h2>" + _fig(figs.get("rd"), (
        "Mean SNDR (dB) of each method against the "
        f"{main['reference']} vs compression ratio (4096 raw bits over fixed-length bits per spike). CAE points are "
        "the committed checkpoints (models/float.pt and models/rd/*.pt, one model per rate; solid line: fewer latent "
        "vectors, dotted: other codebook sizes, both through the default; brown: the seed's shape, models/float-paper.pt "
        "and models/rd-paper/*.pt); PCA/CS spend the same "
        "bits in 8-bit (or narrower) coefficients/measurements; DWT needs 16 bits per coefficient. The star is the "
        f"default fixed-point design (bit-accurate reference encoder). Data: {srcs}.")))
    parts += [_rd_table(r["data"][spec]) for spec in specs]
    parts.append(_footings(r.get("footings")))
    rob = main.get("robustness")
    if rob:
        parts.append("<h2>Robustness</h2>" + _fig(figs.get("robustness"), (
            f"Mean SNDR vs the {main['reference']} of the default CAE and PCA at the same bits, on "
            f"{main['source']} spikes perturbed after fitting: shifted by +-1..8 samples, scaled in amplitude, "
            "stretched in width around the peak (input and reference alike), and with white noise added to the input.")))
    fs_rows = [{**x, "data": r["data"][s]["source"]} for s in specs for x in r["data"][s]["per_sampling_rate"]]
    parts.append("<h3>By sampling rate</h3><p class='small'>The unseen split's 20 and 40 kHz were never trained on.</p>"
                 + _table(fs_rows, [("data", "data", ""), ("fs Hz", "fs_hz", ".0f"), ("spikes", "spikes", ","),
                                    ("CAE dB", "cae_db", ".2f"), ("PCA dB", "pca_db", ".2f")]))
    if main.get("sorting"):
        s = main["sorting"]
        parts.append("<h2>Spike-sorting impact</h2>" + _fig(figs.get("sorting"), (
            "Accuracy of the same sorter (6 principal components + Gaussian mixture, one recording at a time, "
            "clusters matched to ground-truth units one-to-one) on original spikes and on reconstructions at each "
            f"CR (the models with fewer latent vectors), {main['source']} held-out spikes. Original spikes: {100 * s['original_accuracy']:.1f} %.")))
    parts.append("<h2>Float vs fixed point</h2>" + _fig(figs.get("float_vs_fixed"), (
        f"Mean SNDR of the float default and each fixed-point design (bit-accurate reference encoder, float decoder) "
        f"on the same {main['scored_spikes']:,} {main['source']} spikes. A design of another architecture (marked) "
        "quantises its own float model, not the default.")) + _table(main.get("float_vs_fixed", []), [
        ("model", "name", ""), ("bits/spike", "bits_per_spike", ".0f"), ("SNDR dB", "sndr_db_mean", ".3f")]))
    parts.append(_seed_arch(main.get("seed_arch", []), r.get("seed_arch_cost", []), main["source"], main["scored_spikes"]))
    parts.append("<h2>Examples</h2>" + _fig(figs.get("examples"), (
        f"One spike of each of the most active units of the first scored recording of {main['source']}: the four "
        "channels stacked (best channel on top); grey input, black clean twin, blue CAE, orange dashed PCA.")))
    parts.append("<h2>Codebook usage</h2>" + _fig(figs.get("codebook"), (
        f"Share of all indices taken by each codeword of the default model on {main['scored_spikes']:,} held-out "
        f"{main['source']} spikes, sorted; {sum(c > 0 for c in main.get('codebook_counts', []))} of "
        f"{len(main.get('codebook_counts', []))} codewords used.")))
    if r.get("cost"):
        c = r["cost"]
        parts.append(f"<h2>Cost ({_e(c['design'])}, {_e(c['tech'])})</h2><ul>"
                     + "".join(f"<li>{_e(x)}</li>" for x in [c.get("operating_point", ""), *c["summary"]] if x)
                     + "</ul><p class='small'>From `hwcae cost`: gates and cycles of the RTL engine (measured where "
                     "`make rtl` built the design), energy from published per-operation figures per node; per node and "
                     "design in reports/power (`make power`).</p>")
    parts.append(_explore(r.get("explore")))
    return ("<!doctype html><html><head><meta charset='utf-8'><title>hwcae report</title>"
            f"<style>{CSS}</style></head><body>" + "\n".join(parts) + SCRIPT + "</body></html>")
