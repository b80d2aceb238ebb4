"""Decoder refit (hwcae/model/refit.py): only the off-chip decoder moves, the indices a chip sends stay
bit-identical, the kept state never scores below the start, and `train` runs it from the arch YAML."""
import numpy as np
import pytest
import torch

from hwcae.model.checkpoint import load_checkpoint
from hwcae.model.infer import encode_uv


def _load(path):
    from hwcae.adapt.calibrate import _load as load_any

    return load_any(load_checkpoint(path))


@pytest.mark.parametrize("which", ["tiny_checkpoint", "tiny_qat"])
def test_refit_moves_only_the_decoder(which, tiny_set, request):
    from hwcae.model.refit import refit_decoder
    from hwcae.model.train import to_tensors

    model, arch = _load(request.getfixturevalue(which))
    fit, val = tiny_set.halves()
    x, y = to_tensors(fit, arch, True)
    xv, yv = to_tensors(val, arch, True)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    idx_before = encode_uv(model, val.spikes)
    torch.manual_seed(0)
    history = refit_decoder(model, arch, x, y, xv, yv, epochs=3, lr_fraction=0.1, seed=0, progress=False)
    after = model.state_dict()
    assert np.array_equal(encode_uv(model, val.spikes), idx_before)  # the chip's output, bit for bit
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith("decoder.") for k in changed), sorted(changed)[:5]
    assert all(p.requires_grad for p in model.parameters())  # handed back trainable
    best = max(h["val_sndr_db"] for h in history)
    assert best > history[0]["val_sndr_db"] + 0.05, history  # the tiny models' decoders are far from converged


def test_train_runs_the_refit_from_the_arch(tiny_set, tmp_path):
    from hwcae.model.config import arch_from_dict, load_arch
    from hwcae.model.train import train

    d = load_arch("tiny").model_dump(mode="json")
    d["train"]["decoder_refit_epochs"] = 2
    fit, val = tiny_set.halves()
    torch.set_num_threads(2)
    payload = train(arch_from_dict(d), fit, val, tmp_path / "m.pt", epochs=2, seed=0, progress=False)
    refit = payload["metrics"]["decoder_refit"]
    assert [h["epoch"] for h in refit] == [0, 1, 2]
    assert refit[0]["val_sndr_db"] == pytest.approx(max(h["val_sndr_db"] for h in payload["metrics"]["history"][1:]))
    assert payload["metrics"]["val_sndr_db"] == pytest.approx(max(h["val_sndr_db"] for h in refit))


def test_refit_in_train_equals_a_refit_of_the_saved_checkpoint(tiny_set, tmp_path):
    """`train` with the refit in its YAML writes, bit for bit, what the refit of the checkpoint trained
    without it writes: a default trained in two steps (joint, then `refit_decoder` on the saved file)
    is the checkpoint `make train` reproduces in one."""
    from hwcae.model.config import arch_from_dict, load_arch
    from hwcae.model.refit import refit_decoder
    from hwcae.model.train import to_tensors, train

    d = load_arch("tiny").model_dump(mode="json")
    fit, val = tiny_set.halves()
    torch.set_num_threads(2)
    train(arch_from_dict(d), fit, val, tmp_path / "joint.pt", epochs=2, seed=0, progress=False)
    d["train"]["decoder_refit_epochs"] = 2
    one_step = train(arch_from_dict(d), fit, val, tmp_path / "one.pt", epochs=2, seed=0, progress=False)
    model, arch = _load(tmp_path / "joint.pt")
    x, y = to_tensors(fit, arch, arch.train.denoise)
    xv, yv = to_tensors(val, arch, arch.train.denoise)
    refit_decoder(model, arch, x, y, xv, yv, epochs=2, lr_fraction=d["train"]["decoder_refit_lr"], seed=0,
                  progress=False)
    two_step = model.state_dict()
    assert all(torch.equal(one_step["state_dict"][k], two_step[k]) for k in two_step)
    joint = load_checkpoint(tmp_path / "joint.pt")["state_dict"]
    assert not all(torch.equal(joint[k], two_step[k]) for k in two_step)  # the refit did move the decoder
