"""The rate-distortion table of ``hwcae eval``: the CAE and the baselines on the same spikes.

Unless a separate fit set is given, the baselines are fitted on the first half of the data and
every row (the CAE's too) is scored on the second half, so no row is scored on what it fitted.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from hwcae import RAW_BITS_PER_SPIKE
from hwcae.baselines.dwt import DWTCodec
from hwcae.baselines.pca import PCACodec
from hwcae.metrics import counts_entropy_bits, cr_entropy, entropy_bits, footings, summarize
from hwcae.spikes.spikeset import SpikeSet

DEFAULT_BITS = 112.0  # 16 indices x 7 bits: the seed's fixed-length rate


def _entropy_columns(codes: np.ndarray) -> float:
    """Sum over columns of each column's empirical entropy (bits/spike with an ideal coder)."""
    codes = np.asarray(codes).reshape(len(codes), -1)
    total = 0.0
    for j in range(codes.shape[1]):
        _, counts = np.unique(codes[:, j], return_counts=True)
        p = counts / counts.sum()
        total += float(-(p * np.log2(p)).sum())
    return total


def baseline_rows(fit: SpikeSet, score: SpikeSet, bits: float, keep: dict | None = None) -> dict:
    """PCA and DWT rows at ``bits`` per spike; ``keep`` (if given) receives each reconstruction."""
    rows = {}
    for codec in (PCACodec.at_budget(bits), DWTCodec.at_budget(bits)):
        codec.fit(fit.spikes)
        code = codec.encode(score.spikes)
        rec = codec.decode(code)
        if keep is not None:
            keep[codec.name] = rec
        row = summarize(score.spikes, rec, score.clean, codec.bits_per_spike)
        if codec.name == "pca":
            h = _entropy_columns(code)
        else:
            pos, vals = code
            h = codec.k * (entropy_bits(vals + 128, 256) + entropy_bits(pos, 256))
        row["cr_entropy"] = cr_entropy(h, len(score), codec.bits_per_spike)
        rows[codec.name] = row
    return rows


def cae_row(payload: dict, score: SpikeSet, keep: dict | None = None) -> dict:
    """The CAE's row: a float checkpoint encodes in float, a QAT one with the fixed-point reference.
    ``keep`` (if given) receives the reconstruction under ``"cae"``."""
    from hwcae.codec.bitstream import cr_bytes
    from hwcae.fixedpoint.gain import GainSpec, split
    from hwcae.stream.codec import Codec

    codec = Codec(payload)
    symbols = codec.encode(score.spikes)
    rec = codec.decode(symbols)
    if keep is not None:
        keep["cae"] = rec
    arch = codec.arch
    row = summarize(score.spikes, rec, score.clean, arch.bits_per_spike_fixed)
    idx, gain = split(symbols, GainSpec.of(arch.gain))
    h = entropy_bits(idx, arch.vq.codebook_size)
    row["index_entropy_bits"] = h
    row["gain_entropy_bits"] = 0.0 if gain is None else entropy_bits(gain, 2**arch.gain.bits)
    row["cr_entropy"] = cr_entropy(idx.shape[1] * h + row["gain_entropy_bits"], len(score), arch.bits_per_spike_fixed)
    row["codebook_used"] = int(len(np.unique(idx)))
    row["index_entropy_bits_by_position"] = counts_entropy_bits(
        [np.bincount(idx[:, j], minlength=arch.vq.codebook_size) for j in range(idx.shape[1])]).tolist()
    idx = symbols
    # real bytes: containers with times and channels, statistics from training data
    for coder in codec.coders:
        row[f"cr_bytes_{coder}"] = cr_bytes(len(idx), len(codec.pack(idx, coder=coder)))
    row["cr_bytes"] = row[f"cr_bytes_{codec.bitstream.default_coder}"]
    row["coder_rates"] = codec.bitstream.rate_report(idx)
    row["huffman_table_bits"] = codec.coders["huffman"].table_bits
    row["footings"] = footing_rows({"fixed length": arch.bits_per_spike_fixed,
                                    "ideal entropy coder": RAW_BITS_PER_SPIKE / row["cr_entropy"],
                                    f".hwc file ({codec.bitstream.default_coder}, times + channels)": RAW_BITS_PER_SPIKE / row["cr_bytes"]})
    return row


def footing_rows(bits: dict[str, float]) -> dict:
    """Each way of counting bits per spike -> its compression ratios on every footing
    (:func:`hwcae.metrics.footings`) at the operating point's firing and sampling rates."""
    from hwcae.operating_point import load_operating_point

    op = load_operating_point()
    return {"rate_hz": op.rate_hz, "sample_rate_hz": op.sample_rate_hz,
            "rows": {name: {"bits_per_spike": b, **footings(b, rate_hz=op.rate_hz, sample_rate_hz=op.sample_rate_hz)}
                     for name, b in bits.items()}}


def format_footings(f: dict) -> str:
    """The footings block of ``hwcae eval``: one row per way of counting bits."""
    df = pd.DataFrame.from_dict(f["rows"], orient="index").rename(columns={
        "bits_per_spike": "bits/spike", "cr_snippet16": "vs 16-bit snippet", "cr_snippet12": "vs 12-bit",
        "cr_snippet10": "vs 10-bit", "cr_stream": "vs raw stream"})
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        text = df.to_string(float_format=lambda v: f"{v:.1f}")
    return (f"compression ratio of the CAE on every footing (snippet = 4 x 64 samples; raw stream = one channel's "
            f"{f['sample_rate_hz'] / 1e3:g} kHz x 12-bit samples at {f['rate_hz']:g} spikes/s per channel, "
            f"hls/operating_point.yaml; only the .hwc row counts times and channels):\n{text}")


def evaluate(data: SpikeSet, *, checkpoint: dict | None = None, bits: float | None = None,
             fit_data: SpikeSet | None = None, with_bounds: bool = False, by_recording: bool = False,
             progress: bool = False) -> dict:
    from tqdm import tqdm

    steps = 2 + with_bounds + by_recording
    with tqdm(total=steps, desc="eval", unit="step", disable=not progress, leave=False) as bar:
        return _evaluate(data, checkpoint, bits, fit_data, with_bounds, by_recording, bar)


def _evaluate(data, checkpoint, bits, fit_data, with_bounds, by_recording, bar) -> dict:
    if fit_data is None:
        fit_data, score = data.halves()
        split = "baselines fitted on the first half of --data; all rows scored on the second half"
    else:
        score = data
        split = "baselines fitted on --fit-data; all rows scored on all of --data"
    result: dict = {"split": split, "scored_spikes": len(score), "fit_spikes": len(fit_data)}
    if by_recording:
        from hwcae.evaluate.breakdown import recording_ids

        recording_ids(score)  # fail before any work
    recons: dict | None = {} if by_recording else None
    if checkpoint is not None:
        bar.set_postfix_str("CAE")
        cae = cae_row(checkpoint, score, recons)
        bits = bits or cae["bits_per_spike"]
        result.update(cae)
        design = checkpoint.get("design")
        result["model"] = checkpoint["arch"]["name"]
        if isinstance(design, dict):
            result["design"] = design["name"]
        result["model_hash"] = checkpoint["content_hash"]
    bits = bits or DEFAULT_BITS
    result["budget_bits_per_spike"] = bits
    bar.update()
    bar.set_postfix_str("baselines")
    result["baselines"] = baseline_rows(fit_data, score, bits, recons)
    if checkpoint is not None and result.get("cr_bytes", 0) > 0:
        from hwcae.evaluate.equal_rate import equal_rate_row

        result["equal_rate"] = equal_rate_row(result, fit_data, score)
    bar.update()
    if by_recording:
        from hwcae.evaluate.breakdown import by_recording as breakdown

        result["by_recording"] = breakdown(score, recons)
        bar.update()
    if with_bounds:
        from hwcae.evaluate.bounds import bounds

        bar.set_postfix_str("reference levels")
        result["bounds"] = bounds(fit_data, score)
        bar.update()
    return result


def table(result: dict) -> pd.DataFrame:
    cols = ["bits_per_spike", "cr_fixed", "cr_entropy", "cr_bytes", "sndr_db_mean", "sndr_db_median",
            "sndr_clean_db_mean", "sndr_clean_db_median", "sndr_channel_db_mean"]
    rows = {}
    if "cr_fixed" in result:
        label = result.get("model", "?") + (f", QAT {result['design']}" if result.get("design") else "")
        rows[f"cae ({label})"] = {c: result.get(c, math.nan) for c in cols}
    for name, r in result["baselines"].items():
        rows[f"{name} (8-bit)"] = {c: r.get(c, math.nan) for c in cols}
    return pd.DataFrame.from_dict(rows, orient="index")[cols]


def format_table(result: dict) -> str:
    df = table(result).rename(columns={
        "bits_per_spike": "bits", "sndr_db_mean": "SNDR mean", "sndr_db_median": "SNDR med",
        "sndr_clean_db_mean": "vs clean mean", "sndr_clean_db_median": "vs clean med",
        "sndr_channel_db_mean": "per-ch SNDR"})
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        text = df.to_string(float_format=lambda v: f"{v:.2f}")
    if result.get("footings"):
        text += "\n" + format_footings(result["footings"])
    if result.get("equal_rate"):
        e = result["equal_rate"]
        text += (f"\nat the CAE's real rate ({e['bits_per_spike']:.1f} bits/spike, its .hwc file), SNDR vs {e['vs']}: "
                 f"CAE {e['cae_db']:.2f} dB, "
                 f"PCA 8-bit fixed-length {e['pca_fixed_db']:.2f} dB, PCA entropy coded {e['pca_coded_db']:.2f} dB "
                 f"(static tables from the fit half; estimated bits)")
    if result.get("index_entropy_bits_by_position"):
        h = result["index_entropy_bits_by_position"]
        text += (f"\ninformation per latent position on these spikes (entropy of its indices, bits): "
                 f"{' '.join(f'{v:.1f}' for v in h)}; {sum(h):.1f} in all (fixed-length code: {result['bits_per_spike']:g} bits per spike)")
    if result.get("bounds"):
        names = {"noisy_input": "noisy input, uncoded", "linear_mmse": "best linear denoiser, no rate limit",
                 "unit_template": "unit-mean clean template (oracle)"}
        text += "\nreference levels (not codecs), SNDR vs clean mean:\n" + "\n".join(
            f"  {names.get(k, k):<38} {v:6.2f} dB" for k, v in result["bounds"].items())
    if result.get("by_recording"):
        from hwcae.evaluate.breakdown import format_breakdown

        text += "\n" + format_breakdown(result["by_recording"], vs_clean="input" in result["by_recording"][0])
    return text
