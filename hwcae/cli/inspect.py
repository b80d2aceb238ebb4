"""hwcae inspect: what a file holds, without decoding anything you did not ask for.

A checkpoint (.pt): kind, architecture, design and word widths, content hash, training data and the
measured metrics of its card. A container (.hwc): the header (version, coder, latent positions,
codebook, model hash, spikes, chunks, sampling rate); with --checkpoint, every chunk is decoded and
checked, and damage (lost spikes, bad or missing chunks, what was repaired) is listed. Exit status 1
when the container is damaged or was written by another model."""
from __future__ import annotations

from pathlib import Path


def add_parser(sub):
    p = sub.add_parser("inspect", help="show what a checkpoint (.pt) or container (.hwc) holds", description=__doc__)
    p.add_argument("file", help="a .pt checkpoint or a .hwc container")
    p.add_argument("--checkpoint", help=".hwc only: decode every chunk with this checkpoint and report damage")
    return p


def _checkpoint(path: Path) -> int:
    from hwcae.model.checkpoint import decoding_hash, load_checkpoint

    p = load_checkpoint(path)
    arch, design = p.get("arch") or {}, p.get("design") or {}
    print(f"{path}: {p['kind']} checkpoint, format version {p['version']}")
    print(f"  arch: {arch.get('name')} (codebook {(arch.get('vq') or {}).get('codebook_size', '?')} words, "
          f"input scale {p.get('input_scale_uv')} uV)")
    if design:
        words = ", ".join(f"{k} {design[k]}" for k in ("weight_bits", "activation_bits", "latent_bits", "codebook_bits",
                                                          "accumulator_bits") if k in design)
        print(f"  design: {design.get('name')} ({words})")
        steps = (p.get("metrics") or {}).get("activation_range_steps") or {}
        moved = ", ".join(f"{k} {v} bit{'s' * (v > 1)} finer" for k, v in steps.items() if v) or "none moved"
        print(f"  activation ranges: {design.get('activation_range', 'stats')}"
              + (f" (radix points from the statistics': {moved})" if design.get("activation_range") == "val_sndr" else ""))
    print(f"  content hash: {p.get('content_hash')} (decoding hash {decoding_hash(p)[:16]}...)")
    for split, d in (p.get("data") or {}).items():
        if isinstance(d, dict) and d.get("source"):
            print(f"  {split} data: {d['source']}" + (f", {d['spikes']:,} spikes" if isinstance(d.get("spikes"), int) else ""))
    for k, v in (p.get("metrics") or {}).items():
        if isinstance(v, (int, float)):
            print(f"  {k}: {v:.4g}")
    if "adapt" in p:
        print(f"  calibrated: {p['adapt']}")
    _information(p)
    return 0


def _information(p: dict) -> None:
    """Where the sent bits carry information: the entropy of each symbol position's usage on the
    training data (the checkpoint's ``index_counts``; the gain code last), against the fixed bits."""
    import numpy as np

    from hwcae.metrics import counts_entropy_bits
    from hwcae.model.config import arch_from_dict

    if p.get("index_counts") is None or not p.get("arch"):
        return
    h = counts_entropy_bits(np.asarray(p["index_counts"]))
    fixed = arch_from_dict(p["arch"]).bits_per_spike_fixed
    print(f"  information per symbol (training data, bits): {' '.join(f'{v:.1f}' for v in h)}; "
          f"{h.sum():.1f} of the {fixed:g} bits sent fixed-length")


def _container(path: Path, checkpoint: str | None) -> int:
    from hwcae.codec.container import ContainerError, read_header
    from hwcae.errors import HwcaeError

    buf = path.read_bytes()
    try:
        h = read_header(buf)
    except ContainerError as exc:
        raise HwcaeError(f"{path}: {exc}") from None
    print(f"{path}: .hwc container version {h['version']}, {len(buf):,} bytes")
    from hwcae.codec.entropy import CODER_BY_ID

    coder = getattr(CODER_BY_ID.get(h["coder_id"]), "name", None) or f"unknown (id {h['coder_id']})"
    print(f"  coder {coder}, {h['positions']} latent positions, codebook {h['codebook']}, "
          f"{h['n_spikes']:,} spikes in {h['n_chunks'] if h['n_chunks'] is not None else '?'} chunks")
    print(f"  model hash {h['model_hash']}")
    why = "not stored" if h["version"] > 2 else f"a version {h['version']} file holds none"
    print(f"  sampling rate {h['fs_hz']:g} Hz" if h["fs_hz"] else f"  sampling rate unknown ({why})")
    if checkpoint is None:
        print("  (give --checkpoint to decode and check every chunk)")
        return 0
    from hwcae.api import decompress

    _, d = decompress(checkpoint, path, partial=True)  # a damaged file is reported here, not refused
    print(f"  decoded {len(d.indices):,} of {d.spikes_expected or h['n_spikes']:,} spikes; chunks ok {d.chunks_ok}, "
          f"bad or missing {d.chunks_bad}; spikes lost {d.spikes_lost}")
    for msg in list(d.problems) + [f"repaired: {n}" for n in d.notes]:
        print(f"  {msg}")
    return 0 if d.complete else 1


def run(args) -> int:
    from hwcae.errors import HwcaeError

    path = Path(args.file)
    if not path.is_file():
        raise HwcaeError(f"file not found: {path}")
    if path.suffix == ".pt":
        return _checkpoint(path)
    if path.suffix == ".hwc":
        return _container(path, args.checkpoint)
    raise HwcaeError(f"{path}: inspect takes a .pt checkpoint or a .hwc container")
