"""The recorder band-pass augmentation: what it does to a spike, the input's noise kept, determinism."""
import numpy as np
import pydantic
import pytest
import torch

from hwcae.model.config import BandPass, arch_from_dict, load_arch
from hwcae.spikes.recorder_filter import FilterBank


def _spike(n=1):
    """A negative Gaussian trough (sigma 3 samples) at sample 24 on channel 0, smaller copies elsewhere."""
    t = torch.arange(64, dtype=torch.float32)
    w = -torch.exp(-0.5 * ((t - 24) / 3.0) ** 2)
    return torch.stack([w, 0.5 * w, 0.3 * w, 0.2 * w])[None].repeat(n, 1, 1)


@pytest.mark.parametrize("phase", ["zero", "causal"])
def test_band_pass_removes_the_offset_and_keeps_the_trough_in_place(phase):
    bank = FilterBank(BandPass(p=1.0, phase=[phase], bank=8, low_hz=(400.0, 500.0)))
    y = _spike(8)
    yf = bank.filter(y, torch.arange(8))
    assert y.sum(dim=2)[:, 0].max() < -7  # the unfiltered trough has a large mean...
    assert yf.sum(dim=2).abs().max() < 1.0  # ...the band-pass (no DC) removes nearly all of it (tails leave the window)
    assert (yf[:, 0].argmin(dim=1) == 24).all()  # the trough stays at the aligned sample
    assert (yf.max(dim=2).values[:, 0] > 0.05).all()  # a positive phase appears beside it
    ratio = yf[:, 0].min(dim=1).values / y[:, 0].min(dim=1).values
    assert ((ratio > 0.3) & (ratio < 1.0)).all()  # the trough shrinks, not vanishes


def test_fraction_filtered_and_input_noise_kept():
    g = torch.Generator().manual_seed(0)
    y = _spike(400)
    noise = 0.1 * torch.randn(y.shape, generator=g)
    x2, y2 = FilterBank(BandPass(p=0.25))(y + noise, y, g)
    changed = (y2 - y).abs().amax(dim=(1, 2)) > 1e-3
    assert 0.15 < changed.float().mean() < 0.35  # about p of them
    assert torch.allclose(x2 - y2, noise, atol=1e-6)  # the input carries its own noise on the new target
    x0, y0 = FilterBank(BandPass(p=0.0))(y + noise, y, g)
    assert torch.equal(y0, y) and torch.equal(x0, y + noise)


def test_bank_is_deterministic_and_seeded():
    a, b = FilterBank(BandPass(seed=1, bank=16)), FilterBank(BandPass(seed=1, bank=16))
    assert torch.equal(a.h, b.h)
    assert not torch.equal(a.h, FilterBank(BandPass(seed=2, bank=16)).h)
    assert torch.equal(a.h.imag, torch.zeros_like(a.h.imag))  # zero phase by default: |H|^2


def test_config_checks_and_old_dump_unchanged():
    d = load_arch("tiny").model_dump(mode="json")
    assert "augment_bandpass" not in d["train"]  # off: dumps (and hashes) as before the option existed
    d["train"]["augment_bandpass"] = {"p": 0.5, "phase": ["causal"]}
    assert arch_from_dict(d).train.augment_bandpass.phase == ["causal"]
    for bad in ({"low_hz": [500.0, 100.0]}, {"high_hz": [3000.0, 15000.0], "fs_hz": [20000.0, 20000.0]},
                {"p": 1.5}, {"phase": []}, {"phase": ["linear"]}):
        with pytest.raises(pydantic.ValidationError):
            BandPass(**bad)


def test_training_with_the_band_pass_runs(tiny_set, tmp_path):
    from hwcae.model.checkpoint import load_checkpoint
    from hwcae.model.train import train

    d = load_arch("tiny").model_dump(mode="json")
    d["train"]["augment_bandpass"] = {"p": 0.5, "phase": ["zero", "causal"], "bank": 16}
    a, b = tiny_set.halves()
    payload = train(arch_from_dict(d), a, b, tmp_path / "bp.pt", seed=0, epochs=1, progress=False)
    assert np.isfinite(payload["metrics"]["val_sndr_db"])
    assert load_checkpoint(tmp_path / "bp.pt")["arch"]["train"]["augment_bandpass"]["bank"] == 16
