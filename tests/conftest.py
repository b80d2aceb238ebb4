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


@pytest.fixture(scope="session")
def tiny_qat(tiny_set, tiny_checkpoint, tmp_path_factory):
    """The tiny float model fine-tuned for one epoch under the w8a8 design."""
    from hwcae.model.checkpoint import load_checkpoint
    from hwcae.quantize.design import load_design
    from hwcae.quantize.qat import qat

    fit, val = tiny_set.halves()
    design = load_design("w8a8").model_copy(update={"arch": "tiny", "name": "tiny-w8a8"})
    path = tmp_path_factory.mktemp("qat") / "qat-tiny.pt"
    qat(design, load_checkpoint(tiny_checkpoint), fit, val, path, epochs=1, progress=False)
    return path


def _train_and_qat(tiny_set, root, arch: str):
    """A tiny CAE of ``arch`` (3 float epochs) fine-tuned for one epoch under the w8a8 design; the QAT path."""
    import torch

    from hwcae.model.checkpoint import load_checkpoint
    from hwcae.model.config import load_arch
    from hwcae.model.train import train
    from hwcae.quantize.design import load_design
    from hwcae.quantize.qat import qat

    torch.set_num_threads(2)
    fit, val = tiny_set.halves()
    train(load_arch(arch), fit, val, root / "float.pt", epochs=3, seed=0, progress=False)
    design = load_design("w8a8").model_copy(update={"arch": arch, "name": f"{arch}-w8a8"})
    qat(design, load_checkpoint(root / "float.pt"), fit, val, root / "qat.pt", epochs=1, progress=False)
    return root / "qat.pt"


@pytest.fixture(scope="session")
def tiny_dense_qat(tiny_set, tmp_path_factory):
    """A tiny dense-encoder CAE, QAT w8a8 (:func:`_train_and_qat`)."""
    return _train_and_qat(tiny_set, tmp_path_factory.mktemp("dense"), "tiny-dense")


@pytest.fixture(scope="session")
def tiny_grouped_qat(tiny_set, tmp_path_factory):
    """A tiny CAE of the seed's block form (grouped convolutions, one block applied twice with shared
    weights), QAT w8a8 (:func:`_train_and_qat`)."""
    return _train_and_qat(tiny_set, tmp_path_factory.mktemp("grouped"), "tiny-grouped")


@pytest.fixture(params=["tiny_qat", "tiny_dense_qat"])
def each_qat(request):
    """Each encoder kind's tiny QAT checkpoint in turn (conv, dense)."""
    return request.getfixturevalue(request.param)
