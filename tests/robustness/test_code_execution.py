"""No input runs code: a resume state or checkpoint whose pickle would call a function on load is
refused in one line, and the function never runs (the marker file is never created)."""
from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from tests.robustness.conftest import waveforms, write_npz


class Payload:
    """Unpickling this calls Path.touch(marker): what a malicious file would do with os.system."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def crafted(path: Path, marker: Path, how: str) -> Path:
    """A file whose loading with pickle (or torch.load(weights_only=False)) creates ``marker``."""
    obj = {"model": Payload(marker), "epoch": 1}
    if how == "torch.save":
        torch.save(obj, path)  # a zip archive, as torch writes it
    else:
        path.write_bytes(pickle.dumps(obj))  # a bare pickle stream
    return path


@pytest.mark.parametrize("how", ["torch.save", "pickle"])
def test_the_crafted_file_really_runs_code_when_unpickled(tmp_path, how):
    """The payload is live: an unrestricted load creates the marker (so the refusals below mean something)."""
    marker = tmp_path / "marker"
    f = crafted(tmp_path / "evil", marker, how)
    if how == "torch.save":
        torch.load(f, weights_only=False)
    else:
        pickle.loads(f.read_bytes())
    assert marker.exists()


@pytest.mark.parametrize("how", ["torch.save", "pickle"])
def test_train_resume_refuses_a_state_that_runs_code(tmp_path, how, refused):
    marker = tmp_path / "marker"
    data = write_npz(tmp_path / "s.npz", spikes=waveforms(40))
    out = tmp_path / "m.pt"
    crafted(Path(str(out) + ".resume"), marker, how)
    refused(["train", "--config", "tiny", "--data", data, "--val", data, "--out", out, "--resume", "--threads", "1"],
            "m.pt.resume", "--resume")
    assert not marker.exists()
    assert not out.exists() and not out.with_suffix(".json").exists()


@pytest.mark.parametrize("how", ["torch.save", "pickle"])
def test_a_checkpoint_that_runs_code_is_refused(tmp_path, how, refused, spikes_npz):
    marker = tmp_path / "marker"
    ckpt = crafted(tmp_path / "evil.pt", marker, how)
    refused(["compress", spikes_npz, tmp_path / "out.hwc", "--checkpoint", ckpt], "evil.pt")
    refused(["qat", "--design", "w8a8", "--from", ckpt, "--data", spikes_npz, "--val", spikes_npz,
             "--out", tmp_path / "q.pt"], "evil.pt")
    assert not marker.exists()
    assert not (tmp_path / "out.hwc").exists() and not (tmp_path / "q.pt").exists()


def test_resume_state_round_trips_with_weights_only(tmp_path):
    """What train writes after an epoch is plain data: it loads back with weights_only=True, exactly."""
    from hwcae.model.cae import CAE
    from hwcae.model.config import load_arch
    from hwcae.model.train import load_resume_state, save_resume_state

    arch = load_arch("tiny")
    run = {"arch": arch.model_dump(mode="json"), "seed": 0, "epochs": 3}

    def fresh():
        torch.manual_seed(1)
        model = CAE(arch)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, amsgrad=True)
        return model, opt, torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=3), torch.Generator().manual_seed(5)

    model, opt, sched, gen = fresh()
    rec, _, vq = model(torch.randn(8, 4, 64))
    (rec.pow(2).mean() + vq).backward()
    opt.step(), sched.step()
    path = tmp_path / "m.pt.resume"
    save_resume_state(path, run, model, opt, sched, gen, epoch=1, best=-3.5, best_state=model.state_dict(), stale=0,
                      history=[{"epoch": 0, "val_mse": 1.0, "val_sndr_db": float("nan")}])
    torch.load(path, weights_only=True)  # no exception: plain data only
    m2, o2, s2, g2 = fresh()
    epoch, best, best_state, stale, history = load_resume_state(path, run, m2, o2, s2, g2)
    assert (epoch, best, stale, len(history)) == (1, -3.5, 0, 1)
    for k, v in model.state_dict().items():
        assert torch.equal(v, m2.state_dict()[k])
    assert s2.last_epoch == 1 and o2.state_dict()["state"][0]["step"] == 1


def test_resume_state_of_another_run_is_refused(tmp_path):
    from hwcae.errors import HwcaeError
    from hwcae.model.cae import CAE
    from hwcae.model.config import load_arch
    from hwcae.model.train import load_resume_state, save_resume_state

    arch = load_arch("tiny")
    model = CAE(arch)
    opt = torch.optim.Adam(model.parameters())
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=3)
    run = {"arch": arch.model_dump(mode="json"), "seed": 0, "epochs": 3}
    path = tmp_path / "m.pt.resume"
    save_resume_state(path, run, model, opt, sched, torch.Generator(), epoch=1, best=1.0, best_state=None, stale=0,
                      history=[])
    with pytest.raises(HwcaeError, match="another run") as exc:
        load_resume_state(path, dict(run, seed=1), model, opt, sched, torch.Generator())
    assert "\n" not in str(exc.value)
    torch.save({"epoch": 1}, path)
    with pytest.raises(HwcaeError, match="not a resume state"):
        load_resume_state(path, run, model, opt, sched, torch.Generator())
