"""Warm start (`hwcae train --init`, hwcae/model/warm_start.py): a variant of a trained model with the
same layers (more pooling, another codebook size) starts from its weights and beats the same variant
trained from scratch on the same tiny budget; foreign checkpoints are refused in one line."""
import subprocess
import sys

import pytest
import torch

from hwcae.errors import HwcaeError


def _variant(name: str, pools=(2, 2), codebook: int = 16):
    from hwcae.model.config import arch_from_dict, load_arch

    d = load_arch("tiny-grouped").model_dump(mode="json")
    for b, p in zip(d["encoder"]["blocks"], pools):
        b["pool"] = p
    d["vq"]["codebook_size"] = codebook
    d["decoder"] = {"channels": 8, "input": "conv"}  # as `paper`: no layer sized by the latent positions
    d["name"] = name
    return arch_from_dict(d)


@pytest.fixture(scope="module")
def grouped_float(tiny_set, tmp_path_factory):
    from hwcae.model.train import train

    fit, val = tiny_set.halves()
    torch.set_num_threads(2)
    out = tmp_path_factory.mktemp("warm") / "g.pt"
    train(_variant("tiny-grouped"), fit, val, out, epochs=8, seed=0, progress=False)
    return out


def test_pools_may_differ_between_uses_of_a_shared_block():
    arch = _variant("x", pools=(4, 8))
    assert arch.latent_positions == 2
    with pytest.raises(HwcaeError, match="identical blocks"):
        from hwcae.model.config import arch_from_dict

        d = arch.model_dump(mode="json")
        d["encoder"]["blocks"][1]["kernel"] = 5
        arch_from_dict(d)


@pytest.mark.parametrize("pools,codebook", [((2, 4), 16), ((2, 2), 8)])
def test_warm_start_beats_scratch_at_another_rate(grouped_float, tiny_set, tmp_path, pools, codebook):
    from hwcae.model.checkpoint import content_hash, load_checkpoint
    from hwcae.model.train import train

    fit, val = tiny_set.halves()
    torch.set_num_threads(2)
    arch = _variant("v", pools, codebook)
    start = load_checkpoint(grouped_float)
    warm = train(arch, fit, val, tmp_path / "w.pt", epochs=2, seed=0, progress=False, init=start, init_source="g.pt")
    cold = train(arch, fit, val, tmp_path / "c.pt", epochs=2, seed=0, progress=False)
    init = warm["data"]["init"]
    assert init["content_hash"] == content_hash(start["state_dict"]) and init["checkpoint"] == "g.pt"
    # only the codebook (and its EMA statistics) cannot come over when the codebook size changes
    assert init["fresh"] == ([] if codebook == 16 else ["vq.codebook", "vq.ema_count", "vq.ema_sum"])
    assert warm["metrics"]["val_sndr_db"] > cold["metrics"]["val_sndr_db"] + 1.0, (warm["metrics"], cold["metrics"])


def test_warm_start_refuses_foreign_checkpoints(tiny_checkpoint, tiny_qat, grouped_float):
    from hwcae.model.cae import CAE
    from hwcae.model.checkpoint import load_checkpoint
    from hwcae.model.config import load_arch
    from hwcae.model.warm_start import warm_start

    with pytest.raises(HwcaeError, match="needs a float checkpoint"):
        warm_start(CAE(_variant("v")), load_checkpoint(tiny_qat), "q.pt")
    from hwcae.model.config import arch_from_dict

    dense = load_arch("tiny-dense").model_dump(mode="json")
    dense["gain"] = None
    with pytest.raises(HwcaeError, match="shares no encoder weight"):  # a dense encoder: other layers
        warm_start(CAE(arch_from_dict(dense)), load_checkpoint(grouped_float), "g.pt")
    with pytest.raises(HwcaeError, match="its gain"):
        warm_start(CAE(load_arch("tiny-dense")), load_checkpoint(grouped_float), "g.pt")
    scaled = load_arch("tiny-grouped").model_dump(mode="json")
    scaled["input_scale_uv"] = 128
    with pytest.raises(HwcaeError, match="input_scale_uv"):
        warm_start(CAE(arch_from_dict(scaled)), load_checkpoint(grouped_float), "g.pt")


def test_cli_init_of_a_missing_checkpoint_is_one_line(tmp_path, tiny_npz):
    r = subprocess.run([sys.executable, "-m", "hwcae", "train", "--config", "tiny-grouped", "--data", str(tiny_npz),
                        "--val", str(tiny_npz), "--out", str(tmp_path / "m.pt"), "--init", str(tmp_path / "none.pt"),
                        "--epochs", "1"], capture_output=True, text=True)
    assert r.returncode != 0 and "none.pt" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "m.pt").exists()


def test_same_architecture_keeps_its_codebook(grouped_float, tiny_set, tmp_path):
    """A plain fine-tune starts exactly where the checkpoint is (codebook included): its epoch-0
    validation loss is the checkpoint's own; another pooling refits the codebook, so it differs."""
    from hwcae.model.checkpoint import load_checkpoint
    from hwcae.model.train import evaluate_loss, model_from_checkpoint, to_tensors, train

    fit, val = tiny_set.halves()
    torch.set_num_threads(2)
    start = load_checkpoint(grouped_float)
    xv, yv = to_tensors(val, _variant("v"), True)
    own = evaluate_loss(model_from_checkpoint(start), xv, yv)[0]
    same = train(_variant("tiny-grouped"), fit, val, tmp_path / "s.pt", epochs=1, seed=0, progress=False,
                 init=start, init_source="g.pt")
    assert same["data"]["init"]["fresh"] == []
    assert same["metrics"]["history"][0]["val_mse"] == pytest.approx(own, rel=1e-6)
    pooled = train(_variant("v", (2, 4)), fit, val, tmp_path / "p.pt", epochs=1, seed=0, progress=False,
                   init=start, init_source="g.pt")
    assert pooled["metrics"]["history"][0]["val_mse"] != pytest.approx(own, rel=1e-3)
