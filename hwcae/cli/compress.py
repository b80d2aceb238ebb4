"""hwcae compress / decompress: spikes <-> an entropy-coded .hwc container (see README)."""
from __future__ import annotations

from pathlib import Path


def add_parser(sub):
    p = sub.add_parser("compress", help="spikes -> entropy-coded .hwc container", description=__doc__)
    p.add_argument("spikes", help="spike set .npz (optional keys 'times' and 'channels' are stored too)")
    p.add_argument("out", help=".hwc file to write")
    p.add_argument("--checkpoint", required=True, help="float or QAT checkpoint (QAT: fixed-point reference encoder)")
    p.add_argument("--coder", default="ans", choices=["ans", "huffman"])
    p.add_argument("--force", action="store_true", help="overwrite OUT")
    d = sub.add_parser("decompress", help=".hwc container -> reconstructed spikes .npz", description=__doc__)
    d.add_argument("hwc")
    d.add_argument("--checkpoint", required=True)
    d.add_argument("--out", required=True, help="spike set .npz to write (spikes, indices, times, channels)")
    d.add_argument("--force", action="store_true")
    d.set_defaults(_run=run_decompress)
    return p


def run(args) -> int:
    import numpy as np

    from hwcae.codec.codec import Codec, cr_bytes
    from hwcae.errors import HwcaeError
    from hwcae.fileio import atomic_path
    from hwcae.model.checkpoint import load_checkpoint
    from hwcae.spikes.spikeset import load_spikes

    if Path(args.out).exists() and not args.force:
        raise HwcaeError(f"{args.out} exists; pass --force to overwrite it")
    s = load_spikes(args.spikes)
    with np.load(args.spikes) as z:
        times = z["times"] if "times" in z.files else None
        chans = z["channels"] if "channels" in z.files else None
    codec = Codec(load_checkpoint(args.checkpoint))
    buf = codec.pack(codec.encode(s.spikes), times, chans, args.coder)
    with atomic_path(args.out) as tmp:
        tmp.write_bytes(buf)
    print(f"wrote {args.out}: {len(s)} spikes, {len(buf):,} bytes, cr_bytes {cr_bytes(len(s), len(buf)):.1f} "
          f"({len(buf) * 8 / max(len(s), 1):.1f} bits/spike with times and channels)")
    return 0


def run_decompress(args) -> int:
    import numpy as np

    from hwcae.codec.codec import Codec
    from hwcae.errors import HwcaeError
    from hwcae.fileio import atomic_path
    from hwcae.model.checkpoint import load_checkpoint

    if Path(args.out).exists() and not args.force:
        raise HwcaeError(f"{args.out} exists; pass --force to overwrite it")
    p = Path(args.hwc)
    if not p.is_file():
        raise HwcaeError(f"file not found: {p}")
    codec = Codec(load_checkpoint(args.checkpoint))
    d = codec.unpack(p.read_bytes())
    rec = codec.decode(d.indices)
    with atomic_path(args.out) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, spikes=rec, indices=d.indices, times=d.times, channels=d.channels)
    msg = f"wrote {args.out}: {len(rec)} spikes from {d.chunks_ok} chunks"
    if d.chunks_bad or d.spikes_lost:
        msg += f"; {d.chunks_bad} damaged chunk(s) skipped, {d.spikes_lost} spikes lost"
    print(msg)
    return 0 if not d.chunks_bad else 1
