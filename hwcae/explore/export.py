"""A front point as a design the default flow takes unchanged (``hwcae explore --export ID``).

Writes ``<design-dir>/<study>-<ID>.yaml`` (default ``quantization/``: ``make qat DESIGN=<study>-<ID>``
and ``make hls DESIGN=<study>-<ID>`` then find it by name) and, where ``hwcae qat`` would not find
the float model it fine-tunes (``models/float.pt`` for ``default``, else ``models/float-<arch>.pt``),
the trial's float checkpoint there, with its architecture as YAML beside it
(``float-<arch>.arch.yaml``: ``hwcae train --config`` retrains it with the full recipe).
The design keeps the trial's QAT recipe, so ``make qat`` reproduces what the study measured.
"""
from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import yaml

from hwcae.errors import HwcaeError
from hwcae.fileio import check_outputs, write_text_atomic


def float_target(arch: str, models_dir: Path) -> Path:
    return models_dir / ("float.pt" if arch == "default" else f"float-{arch}.pt")


def export_trial(study, trial_id: int, *, design_dir: Path = Path("quantization"), models_dir: Path = Path("models"),
                 force: bool = False) -> list[Path]:
    """Write the trial's design (and its float model where needed); returns the paths written."""
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    t = trials.get(trial_id)
    if t is None:
        raise HwcaeError(f"study {study.study_name!r} has no trial {trial_id} (trials 0-{max(trials, default=-1)})")
    spec = t.user_attrs.get("design_spec")
    if t.state.name != "COMPLETE" or spec is None:
        why = t.user_attrs.get("failure", t.state.name.lower())
        raise HwcaeError(f"trial {trial_id} has no design to export ({why})")
    design = design_dir / f"{spec['name']}.yaml"
    arch, src = t.user_attrs["arch"], Path(t.user_attrs["float"])
    target = float_target(arch, models_dir)
    copy = not (target.is_file() and target.resolve() == src.resolve())
    if copy and target.is_file() and filecmp.cmp(target, src, shallow=False):
        copy = False
    outs = [design] + ([target, target.with_suffix(".json")] if copy else [])
    cand = t.user_attrs["candidate"]
    if copy and cand.get("arch"):
        outs.append(target.with_name(f"float-{arch}.arch.yaml"))
    if copy and not src.is_file():
        raise HwcaeError(f"trial {trial_id}'s float checkpoint {src} is gone (was the study folder moved?)")
    check_outputs(outs, force=force, inputs=[src])
    design_dir.mkdir(parents=True, exist_ok=True)
    head = (f"# Exported by `hwcae explore --export {trial_id}` from study {study.study_name} (trial {trial_id}: "
            f"{t.values[0]:.2f} dB on the quality sets, {t.values[1]:.3g} uW/channel, {t.values[2]:.3g} mm^2).\n"
            f"# Float model: {target}" + (" (short-trained by the study; `hwcae train --config "
                                           f"{target.with_name(f'float-{arch}.arch.yaml')} --out {target}` trains it fully)"
                                           if cand.get("arch") else "") + "\n")
    write_text_atomic(design, head + yaml.safe_dump(spec, sort_keys=False))
    if copy:
        models_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        card = src.with_suffix(".json")
        if card.is_file():
            shutil.copyfile(card, target.with_suffix(".json"))
        if cand.get("arch"):
            write_text_atomic(target.with_name(f"float-{arch}.arch.yaml"), yaml.safe_dump(cand["arch"], sort_keys=False))
    return [p for p in outs if p.exists()]
