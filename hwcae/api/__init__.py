"""The Python API: what the ``hwcae`` command line does, as functions (exported from ``hwcae``).

In the style of hls4ml's convert / compile / predict and SpikeInterface's functions: plain
functions over plain objects. Spikes are :class:`~hwcae.spikes.spikeset.SpikeSet` (arrays in uV,
(N, 4, 64)); a model is a :class:`~hwcae.stream.codec.Codec` loaded from a checkpoint; a
fixed-point design is a :class:`~hwcae.fixedpoint.graph.FixedPointModel`. Each CLI verb calls these.

    import hwcae
    spikes = hwcae.load_spikes("synth")                  # or a .npz, suite:<set>, ...
    model = hwcae.load_model("models/qat-w8a8.pt")       # float or QAT checkpoint
    symbols = hwcae.encode(model, spikes.spikes)         # QAT: bit-accurate, what the chip sends
    rec_uv = hwcae.decode(model, symbols)
    report = hwcae.verify_design("models/qat-w8a8.pt", spikes.spikes[:500])   # HLS projects + C-sim
    cost = hwcae.estimate_cost("models/qat-w8a8.pt", tech="65nm")
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

PathLike = str | os.PathLike


from hwcae.api.hardware import build_design, build_rtl, estimate_cost, fixed_point_model, verify_design  # noqa: F401


def _payload(checkpoint):
    """A checkpoint path -> its loaded payload; a payload (dict) as it is."""
    from hwcae.model.checkpoint import load_checkpoint

    return checkpoint if isinstance(checkpoint, dict) else load_checkpoint(checkpoint)


# -- spikes -------------------------------------------------------------------------------------

def load_spikes(source: str, *, align: bool = True, describe: bool = False):
    """A spike set from a ``.npz`` path, ``synth[:preset]`` (built-in generated split, cached),
    ``suite:<set>`` / ``suite-val:<set>`` (the external benchmark), or several joined by ``+``.
    A file whose troughs are not at sample 24 is realigned per spike unless ``align=False``.
    ``describe=True`` returns (spike set, a description of where it came from)."""
    from hwcae.spikes.sources import load_data

    spikes, desc = load_data(source, align=align)
    return (spikes, desc) if describe else spikes


def generate_spikes(preset: str = "test", *, progress: bool = False, jobs: int = 1):
    """Generate a built-in preset's ground-truth spike set afresh (no cache), or a set of the
    external suite (``suite:<set>``, ``suite-val:<set>``): recordings simulated, spikes detected and
    cut from the noisy trace, clean twins attached."""
    from hwcae.spikes.synth import generate_spike_set

    kind, _, name = preset.partition(":")
    if kind in ("suite", "suite-val") and name:
        from hwcae.spikes.scene import suite_scene

        preset = suite_scene(name, "val" if kind == "suite-val" else "final")
    return generate_spike_set(preset, progress=progress, jobs=jobs)


def extract_spikes(plan, *, progress: bool = False):
    """Detect, align and cut spikes (4 nearest channels) from a recording, chunk by chunk
    (a :class:`hwcae.spikes.readers.ChunkPlan`, e.g. from ``hwcae.spikes.readers.plan_for``)."""
    from hwcae.spikes.readers import extract_chunks

    return extract_chunks(plan, progress=progress)[0]


def read_mat(path: PathLike, *, uv_per_unit: float = 1.0, fs_hz: float | None = None):
    """A Wave_Clus / Leicester-style ``.mat`` (``data``, ``spike_times``, ``spike_class``) as a spike set."""
    from hwcae.spikes.readers import read_waveclus_mat

    return read_waveclus_mat(path, uv_per_unit=uv_per_unit, fs_hz=fs_hz)


# -- models -------------------------------------------------------------------------------------

def load_model(checkpoint: PathLike | dict):
    """A float or QAT checkpoint (path or loaded payload) as a codec: ``.encode`` / ``.decode`` /
    ``.pack`` / ``.unpack``; a QAT one encodes with the bit-accurate integer reference."""
    from hwcae.stream.codec import Codec

    return Codec(_payload(checkpoint))


def _model(model):
    return model if hasattr(model, "encode") and hasattr(model, "bitstream") else load_model(model)


def encode(model, spikes_uv: np.ndarray) -> np.ndarray:
    """Symbols (N, S) the encoder sends for spikes in uV (N, 4, 64): codeword indices, then the gain
    code if the model has a gain stage. ``model``: a checkpoint path or :func:`load_model`'s codec."""
    return _model(model).encode(np.asarray(spikes_uv))


def decode(model, symbols: np.ndarray) -> np.ndarray:
    """Reconstructed spikes in uV (N, 4, 64) from symbols (the off-chip decoder)."""
    return _model(model).decode(np.asarray(symbols))


def train(arch: str = "default", train_spikes=None, val_spikes=None, out: PathLike = "models/float.pt", *,
          seed: int = 0, epochs: int | None = None, resume: bool = False, progress: bool = True,
          data_desc: dict | None = None, command: str = "", init: PathLike | None = None) -> dict:
    """Train the float CAE (architecture name or YAML path) and write ``out``; returns its payload.
    Spikes default to ``synth:train+synth:train-first`` and ``synth:val``. ``init``: a float
    checkpoint to start from (its matching tensors; :mod:`hwcae.model.warm_start`)."""
    from hwcae.model.checkpoint import load_checkpoint
    from hwcae.model.config import load_arch
    from hwcae.model.train import train as _train

    train_spikes = train_spikes if train_spikes is not None else load_spikes("synth:train+synth:train-first")
    val_spikes = val_spikes if val_spikes is not None else load_spikes("synth:val")
    start = load_checkpoint(init) if init is not None else None
    return _train(load_arch(arch), train_spikes, val_spikes, out, seed=seed, epochs=epochs, resume=resume,
                  data_desc=data_desc, command=command, progress=progress, init=start, init_source=str(init or ""))


def qat(design: str, float_checkpoint: PathLike, train_spikes, val_spikes, out: PathLike, *, seed: int = 0,
             epochs: int | None = None, max_train: int | None = 24000, command: str = "") -> dict:
    """Quantisation-aware fine-tuning of a float checkpoint for a design (``quantization/<design>.yaml``
    or a path); writes the QAT checkpoint ``out`` and returns its payload."""
    from hwcae.model.checkpoint import load_checkpoint
    from hwcae.quantize.design import load_design
    from hwcae.quantize.qat import qat as _qat

    return _qat(load_design(design), load_checkpoint(float_checkpoint, kind="float"), train_spikes, val_spikes, out,
               seed=seed, epochs=epochs, command=command, max_train=max_train)


def calibrate(checkpoint: PathLike | dict, spikes_uv: np.ndarray, out: PathLike | None = None, *,
              level: str = "decoder", epochs: int | None = None, seed: int = 0, n_pairs: int = 30000, source: dict | None = None,
              progress: bool = True) -> dict:
    """Calibrate a float or QAT checkpoint on the user's noisy spikes (uV, (N, 4, 64); no clean twin
    is used) at ``level`` decoder | codebook | all; writes ``out`` (same kind as the input, with a
    JSON card) when given and returns the payload. See :mod:`hwcae.adapt.calibrate`."""
    from hwcae.adapt.calibrate import adapt as _adapt
    from hwcae.model.checkpoint import load_checkpoint, save_checkpoint

    p = _adapt(_payload(checkpoint), np.asarray(spikes_uv), level=level, epochs=epochs, seed=seed, n_pairs=n_pairs, source=source,
               progress=progress)
    if out is not None:
        save_checkpoint(out, p)
        p = load_checkpoint(out)
    return p


# -- compression --------------------------------------------------------------------------------

def compress(model, spikes_uv: np.ndarray, out: PathLike, *, times=None, channels=None, coder: str | None = None,
             fs_hz: float | None = None) -> int:
    """Encode spikes and write a ``.hwc`` container (atomically); returns its size in bytes.
    ``times`` (sample index per spike, non-decreasing) and ``channels`` default to 0..N-1 and 0;
    ``fs_hz``, the recording's sampling rate, is stored in the header (None: unknown)."""
    from hwcae.fileio import atomic_path

    codec = _model(model)
    buf = codec.pack(codec.encode(np.asarray(spikes_uv)), times, channels, coder, fs_hz)
    with atomic_path(out) as tmp:
        Path(tmp).write_bytes(buf)
    return len(buf)


def decompress(model, path: PathLike, *, partial: bool = False) -> tuple[np.ndarray, object]:
    """(reconstructed spikes in uV, the decoded container: ``.indices``, ``.times``, ``.channels``,
    ``.complete``, ``.spikes_lost``, ``.problems``) of a ``.hwc`` file written with this model.
    A file that lost spikes (a damaged, missing or foreign chunk, a file cut short) raises
    :class:`~hwcae.errors.HwcaeError` naming how many, as ``hwcae decompress`` refuses it;
    ``partial=True`` (``--partial``) returns the spikes that decode: then check ``.complete``."""
    from hwcae.errors import HwcaeError

    p = Path(path)
    if not p.is_file():
        raise HwcaeError(f"file not found: {p}")
    codec = _model(model)
    try:
        d = codec.unpack(p.read_bytes())
    except HwcaeError as exc:  # the header: name the file
        raise HwcaeError(f"{p}: {exc}") from None
    if not d.complete and not partial:
        lost = (f"{d.spikes_lost} of {d.spikes_expected} spikes lost" if d.spikes_lost >= 0 else
                f"the chunks hold {len(d.times)} spikes but the header says {d.spikes_expected}")
        raise HwcaeError("; ".join([f"{p}: {lost}", *d.problems]) + f" (partial=True returns the {len(d.times)} that decode)")
    return codec.decode(d.indices), d


def compress_recording(model, plan, out: PathLike, *, coder: str | None = None, jobs: int = 1,
                       scheduler: str | None = None, progress: bool = False):
    """Stream a long recording (a :class:`hwcae.spikes.readers.ChunkPlan`) through a QAT model's
    bit-accurate encoder into a ``.hwc`` file in bounded memory; returns the stream figures."""
    from hwcae.stream.compress import compress_recording as _compress

    return _compress(plan, _model(model), out, coder=coder, jobs=jobs, scheduler=scheduler, progress=progress)


# -- evaluation ---------------------------------------------------------------------------------

def evaluate_set(spikes, model: PathLike | dict | None = None, *, bits: float | None = None, fit_spikes=None,
             bounds: bool = False, by_recording: bool = False, progress: bool = False) -> dict:
    """Rate vs distortion of the CAE and the baselines (PCA, DWT, compressive sensing) on one spike
    set: baselines fitted on ``fit_spikes`` (default the set's first half), every row scored on the
    rest, SNDR against the clean twin where there is one. ``hwcae.evaluate.table.format_table``
    prints it."""
    from hwcae.evaluate.table import evaluate as _evaluate

    return _evaluate(spikes, checkpoint=None if model is None else _payload(model), bits=bits, fit_data=fit_spikes, with_bounds=bounds,
                     by_recording=by_recording, progress=progress)


def evaluate_suite(checkpoints: dict[str, PathLike | dict], *, split: str = "final", sets: list[str] | None = None,
                   rd_checkpoints: dict[str, PathLike | dict] | None = None) -> dict:
    """The external benchmark: every set scored per set against PCA/DWT fitted on its own first half
    (``split="val"``: the seeds for choosing recipes; ``"final"``: the reported ones)."""
    from hwcae.evaluate.suite import run_suite

    if not checkpoints:
        from hwcae.errors import HwcaeError

        raise HwcaeError("the suite needs at least one checkpoint")
    ckpts = {k: _payload(v) for k, v in checkpoints.items()}
    rd = {k: _payload(v) for k, v in (rd_checkpoints or {}).items()}
    first, payload = next(iter(ckpts.items()))
    if rd and payload["kind"] == "float":
        rd = {first: payload, **rd}  # the first checkpoint is the sweep's point at its own rate
    return run_suite(ckpts, split=split, only=sets, rd_checkpoints=rd)


def evaluate_calibration(checkpoints: dict[str, PathLike | dict], levels: list[str], *, split: str = "final",
                         sets: list[str] | None = None) -> dict:
    """What ``hwcae adapt`` buys on the external suite: per set, each checkpoint generic and calibrated
    at each level on the first half in time of every recording (noisy spikes only), PCA fitted on
    the same half, second halves scored against the clean twins."""
    from hwcae.adapt.calibrate import LEVELS
    from hwcae.errors import HwcaeError
    from hwcae.evaluate.calibration import run_calibration

    bad = [lv for lv in levels if lv not in LEVELS]
    if bad or not checkpoints:
        raise HwcaeError(f"calibration needs checkpoints and levels from {', '.join(LEVELS)} (got {bad or 'none'})")
    ckpts = {k: _payload(v) for k, v in checkpoints.items()}
    return run_calibration(ckpts, levels, split=split, only=sets)


def compare_designs(float_checkpoint: PathLike, qat_checkpoints: list[PathLike], spikes, *, progress: bool = False) -> list[dict]:
    """Float vs fixed point on the same spikes: one row per model (SNDR, compression, agreement of
    indices with the float model, weight bits, MACs, saturation counts)."""
    from hwcae.evaluate.compare import compare_designs as _compare

    return _compare(float_checkpoint, qat_checkpoints, spikes, progress=progress)


def write_report(out: PathLike = "reports", *, data: list[str] | None = None, checkpoint: PathLike = "models/float.pt",
                 rd_checkpoints: list[PathLike] | None = None, qat_checkpoints: list[PathLike] | None = None,
                 design: PathLike = "models/qat-w8a8.pt", quick: bool = False) -> dict:
    """The evaluation report: ``out/index.html`` + PNGs + ``report.json`` (rate-distortion,
    robustness, sorting impact, float vs fixed, examples, cost); returns what report.json holds."""
    from hwcae.evaluate.report import Inputs, build

    inp = Inputs(quick=quick, float_checkpoint=str(checkpoint), default_design=str(design))
    if data:
        inp.data = data
    if rd_checkpoints is not None:
        inp.rd_checkpoints = [str(p) for p in rd_checkpoints]
    if qat_checkpoints is not None:
        inp.qat_checkpoints = [str(p) for p in qat_checkpoints]
    return build(inp, out)
