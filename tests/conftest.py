"""Shared fixtures: tiny generated data and a tiny trained model (never the real defaults)."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("HWCAE_CACHE", os.path.join(os.path.dirname(__file__), "..", ".venv", "cache"))


@pytest.fixture(scope="session")
def tiny_set():
    from hwcae.spikes.synth import generate_spike_set

    return generate_spike_set("tiny")


@pytest.fixture(scope="session")
def tiny_npz(tiny_set, tmp_path_factory):
    from hwcae.spikes.spikeset import save_spikes

    return save_spikes(tiny_set, tmp_path_factory.mktemp("data") / "tiny.npz")


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_set, tmp_path_factory):
    """A tiny float CAE trained for a few epochs on half of the tiny set."""
    import torch

    from hwcae.model.config import load_arch
    from hwcae.model.train import train

    torch.set_num_threads(2)
    fit, val = tiny_set.halves()
    path = tmp_path_factory.mktemp("models") / "tiny.pt"
    train(load_arch("tiny"), fit, val, path, epochs=12, seed=0, progress=False)
    return path
