"""Speed benchmarks: each figure beside a baseline measured in the same run (ratio + absolute).

    python benchmarks/run.py --out reports/bench.json

- codec: Huffman / ANS encode and decode, spikes/s, vs zlib on the raw index bytes;
- encoder: the NumPy fixed-point reference encoder (w8a8), spikes/s on one core, vs the PCA encoder
  (projection + 8-bit quantisation) and vs the float torch encoder;
- decoder: the float decoder, spikes/s.
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
    import numpy as np
    import torch

    torch.set_num_threads(1)
    from hwcae.baselines.pca import PCACodec
    from hwcae.codec.codec import Codec
    from hwcae.model.checkpoint import load_checkpoint
    from hwcae.spikes.synth import cached_spike_set

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="reports/bench.json")
    ap.add_argument("--spikes", type=int, default=10000)
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
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out + ".tmp", "w") as fh:
        json.dump(res, fh, indent=2)
    os.replace(args.out + ".tmp", args.out)
    for k, v in res.items():
        print(f"{k:32s} {v:14,.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
