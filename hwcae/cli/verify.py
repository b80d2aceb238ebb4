"""hwcae verify: Brevitas vs the NumPy reference vs the compiled C simulation, bit for bit.

The project folder names the backend (``.../vitis`` or ``.../catapult``); the project is rebuilt
there from the checkpoint (deterministic) and its C simulation run on the same inputs as the
other two. Range-edge inputs (all-zero, full-scale, saturating) are always added."""
from __future__ import annotations

import json
from pathlib import Path

from hwcae.cli.data_args import DATA_HELP, add_align_arg, load_spikes_arg


def add_parser(sub):
    p = sub.add_parser("verify", help="3-way bit-exact check: Brevitas, NumPy reference, C simulation",
                       description=__doc__)
    p.add_argument("--checkpoint", required=True, help="QAT checkpoint")
    p.add_argument("--project", help="hls/build/<design>/vitis or .../catapult (omit: reference vs Brevitas only)")
    p.add_argument("--data", default="synth", help=DATA_HELP)
    p.add_argument("--spikes", type=int, default=10000, help="how many spikes of --data")
    p.add_argument("--qonnx", action="store_true", help="also run qonnx's executor on the QONNX export")
    p.add_argument("--json", help="write every number here")
    add_align_arg(p)
    return p


def run(args) -> int:
    import numpy as np

    from hwcae.errors import HwcaeError
    from hwcae.export import fixed_point
    from hwcae.fileio import write_text_atomic
    from hwcae.quantize.qat import load_qat
    from hwcae.verify.checks import edge_inputs, encoder_inputs, verify

    model, arch, design, _ = load_qat(args.checkpoint)
    data, desc = load_spikes_arg(args, args.data)
    fp = fixed_point.extract(model.encoder)
    spikes = np.concatenate([encoder_inputs(fp, data.spikes[: args.spikes]), edge_inputs(design.input.range_uv)])
    folder = Path(args.project) if args.project else None
    if folder is not None and folder.name not in ("vitis", "catapult"):
        raise HwcaeError(f"--project must end in vitis or catapult, got {folder}")
    project = onnx_path = None
    if folder is not None or args.qonnx:  # one QONNX export serves both the project and the executor check
        from hwcae.export import qonnx_export

        onnx_path = (folder.parent if folder is not None else Path("hls/build") / design.name) / "encoder.onnx"
        qonnx_export.export(model.encoder, onnx_path)
    if folder is not None:
        from hwcae.export.hls_config import load_hls_config
        from hwcae.export.hls_project import build

        project = build(qonnx_export.to_channels_last(qonnx_export.cleaned(onnx_path)), fp,
                        load_hls_config(folder.name), folder)
    result = verify(model.encoder, fp, spikes, project)
    if args.qonnx:
        from hwcae.export.pipeline import qonnx_check

        result["qonnx_vs_brevitas"] = qonnx_check(model.encoder, qonnx_export.cleaned(onnx_path), spikes, fp)
    result.update(design=design.name, data=desc["source"], edge_inputs=int(len(spikes) - min(args.spikes, len(data))))
    print(f"{design.name}: {result['spikes']} spikes ({result['edge_inputs']} range-edge) from {desc['source']}")
    ok = True
    for pair in ("brevitas_vs_reference", "reference_vs_csim", "brevitas_vs_csim", "qonnx_vs_brevitas"):
        if pair in result:
            r = result[pair]
            ok &= r["index_exact"] == 1.0 and r["latent_exact"] == 1.0
            extra = f"  first mismatch: spike {r['first_mismatch_spike']} ({r['first_mismatch_in']})" if "first_mismatch_spike" in r else ""
            print(f"  {pair:24s} latent {r['latent_exact']:.4%}  index {r['index_exact']:.4%}{extra}")
    sat = {k: v for k, v in result["saturation"].items() if v}
    print("  saturation events per quantiser: " + (", ".join(f"{k} {v}" for k, v in sat.items()) or "none"))
    if args.json:
        write_text_atomic(args.json, json.dumps(result, indent=2) + "\n")
    return 0 if ok else 1
