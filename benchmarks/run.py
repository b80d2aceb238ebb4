"""Speed benchmarks: each figure beside a baseline measured in the same run (ratio + absolute).

    python benchmarks/run.py --out reports/bench.json

- codec: Huffman / ANS encode and decode, spikes/s, vs zlib on the raw index bytes;
- encoder: the NumPy fixed-point reference encoder (w8a8), spikes/s on one core, vs the PCA encoder
  (projection + 8-bit quantisation) and vs the float torch encoder;
- decoder: the float decoder, spikes/s;
- csim: the hls4ml C simulation of the w8a8 Vitis project, spikes/s, vs the reference encoder;
- stream: ``hwcae compress`` on a synthetic raw int16 recording (384 channels, 30 kHz, 60 s; two
  worker processes), x real time vs only reading the file, peak RSS (parent + each worker's peak)
  vs the same run on a recording a quarter as long (flat memory in length = ratio ~1); and how
  time and memory grow with channels (64 -> 1024, 10 s each).

``--quick`` shortens the streaming runs (for a smoke test, not for the figures).
"""
from __future__ import annotations

import argparse
import json
import os
import time
import zlib

os.environ.setdefault("OMP_NUM_THREADS", "1")


def rate(fn, n, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return n / best


def main() -> int:
    import sys

    import numpy as np
    import torch

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # benchmarks/stream.py

    torch.set_num_threads(1)
    from hwcae.baselines.pca import PCACodec
    from hwcae.stream.codec import Codec
    from hwcae.model.checkpoint import load_checkpoint
    from hwcae.spikes.synth import cached_spike_set

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="reports/bench.json")
    ap.add_argument("--spikes", type=int, default=10000)
    ap.add_argument("--quick", action="store_true", help="short streaming runs (smoke test)")
    ap.add_argument("--no-stream", action="store_true", help="skip the streaming runs")
    ap.add_argument("--no-csim", action="store_true", help="skip the hls4ml C-simulation run")
    args = ap.parse_args()
    s = cached_spike_set("test").spikes[: args.spikes]
    n = len(s)
    fcodec = Codec(load_checkpoint("models/float.pt"))
    qcodec = Codec(load_checkpoint("models/qat-w8a8.pt"))
    idx = fcodec.encode(s)
    res = {"spikes": n}
    raw = idx.astype(np.uint8).tobytes()
    base_enc = rate(lambda: zlib.compress(raw, 6), n)
    comp = zlib.compress(raw, 6)
    base_dec = rate(lambda: zlib.decompress(comp), n)
    res["zlib_encode_spikes_per_s"], res["zlib_decode_spikes_per_s"] = base_enc, base_dec
    for name, coder in fcodec.coders.items():
        data = coder.encode(idx)
        e = rate(lambda: coder.encode(idx), n)
        d = rate(lambda: coder.decode(data, n, idx.shape[1]), n, repeat=1)
        res[f"{name}_encode_spikes_per_s"], res[f"{name}_decode_spikes_per_s"] = e, d
        res[f"{name}_encode_vs_zlib"], res[f"{name}_decode_vs_zlib"] = e / base_enc, d / base_dec
    pca = PCACodec.at_budget(112).fit(s)
    res["pca_encoder_spikes_per_s"] = rate(lambda: pca.encode(s), n)
    res["ref_encoder_spikes_per_s"] = rate(lambda: qcodec.encode(s), n, repeat=1)
    res["ref_encoder_vs_pca"] = res["ref_encoder_spikes_per_s"] / res["pca_encoder_spikes_per_s"]
    res["float_encoder_spikes_per_s"] = rate(lambda: fcodec.encode(s), n)
    res["decoder_spikes_per_s"] = rate(lambda: fcodec.decode(idx), n, repeat=1)
    res["decoder_vs_float_encoder"] = res["decoder_spikes_per_s"] / res["float_encoder_spikes_per_s"]
    res["ref_encoder_target_spikes_per_s"] = 100_000.0
    if not args.no_csim:
        res.update(csim_speed(qcodec, s[:2000], res["ref_encoder_spikes_per_s"]))
    if not args.no_stream:
        res.update(stream_figures(args.quick))
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out + ".tmp", "w") as fh:
        json.dump(res, fh, indent=2)
    os.replace(args.out + ".tmp", args.out)
    for k, v in res.items():
        print(f"{k:40s} {v:16,.2f}" if isinstance(v, (int, float)) else f"{k:40s} {v}")
    return 0


def csim_speed(qcodec, spikes, ref_rate: float) -> dict:
    """Compile the w8a8 Vitis project in a temporary folder and time its C simulation."""
    import tempfile

    from hwcae.export import qonnx_export
    from hwcae.export.backends import BACKENDS
    from hwcae.export.hls_project import build, predict

    with tempfile.TemporaryDirectory() as tmp:
        onnx = os.path.join(tmp, "encoder.onnx")
        qonnx_export.export(qcodec.model.encoder, onnx)
        proj = build(qonnx_export.to_channels_last(qonnx_export.cleaned(onnx)), qcodec.fixed_point,
                     BACKENDS["vitis"], os.path.join(tmp, "vitis"))
        x = qcodec._ref.quantize_input(spikes) * 2.0**qcodec.fixed_point.input.exp
        r = rate(lambda: predict(proj, x), len(x), repeat=1)
    return {"csim_spikes_per_s": r, "csim_vs_ref_encoder": r / ref_rate}


def stream_figures(quick: bool) -> dict:
    import tempfile
    from pathlib import Path

    import stream

    length = 8.0 if quick else 60.0
    ckpt = "models/qat-w8a8.pt"
    out = {}
    with tempfile.TemporaryDirectory(dir=os.environ.get("HWCAE_BENCH_TMP")) as tmp:
        tmp = Path(tmp)
        runs = {}
        for name, ch, dur in (("main", 384, length), ("quarter", 384, length / 4)):
            desc = stream.make_recording(tmp / name, ch, dur)
            runs[name] = (desc, stream.compress(tmp / name, desc, ckpt))
            if name == "main":
                out["stream_read_x_realtime"] = stream.read_baseline(tmp / name, desc)
            (tmp / name / "rec.bin").unlink()
        desc, r = runs["main"]
        out.update({"stream_channels": 384, "stream_duration_s": length, "stream_spikes": r["spikes"],
                    "stream_x_realtime": r["x_realtime"], "stream_spikes_per_s": r["spikes_per_s"],
                    "stream_peak_rss_mb": r["peak_rss_mb"],
                    "stream_vs_read_only": r["x_realtime"] / out["stream_read_x_realtime"],
                    "stream_peak_rss_mb_quarter_length": runs["quarter"][1]["peak_rss_mb"],
                    "stream_rss_vs_quarter_length": r["peak_rss_mb"] / runs["quarter"][1]["peak_rss_mb"],
                    "stream_cr_bytes": r["spikes"] * 512 / max(r["bytes"], 1)})
        for ch in ((64, 256) if quick else (64, 256, 1024)):
            desc = stream.make_recording(tmp / f"c{ch}", ch, 2.0 if quick else 10.0)
            r = stream.compress(tmp / f"c{ch}", desc, ckpt)
            out[f"stream_{ch}ch_x_realtime"], out[f"stream_{ch}ch_peak_rss_mb"] = r["x_realtime"], r["peak_rss_mb"]
            (tmp / f"c{ch}" / "rec.bin").unlink()
    return out


if __name__ == "__main__":
    raise SystemExit(main())
