import json
import math

import numpy as np
import pytest
import torch

from hwcae.errors import HwcaeError
from hwcae.model.cae import CAE, count_encoder_macs
from hwcae.model.checkpoint import load_checkpoint
from hwcae.model.config import load_arch
from hwcae.model.vq import VectorQuantizer, nearest_codeword


def test_nearest_codeword_matches_brute_force_and_ties_go_low():
    g = torch.Generator().manual_seed(0)
    z, cb = torch.randn(5, 3, 7, generator=g), torch.randn(9, 3, generator=g)
    d = ((z.permute(0, 2, 1)[:, :, None, :] - cb[None, None]) ** 2).sum(-1)  # (N, L, K)
    assert torch.equal(nearest_codeword(z, cb), d.argmin(-1))
    tie = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert nearest_codeword(torch.tensor([[[1.0], [0.0]]]), tie).tolist() == [[0]]  # rows 0, 1 tie
    assert nearest_codeword(torch.tensor([[[0.0], [1.0]]]), tie).tolist() == [[2]]


def test_straight_through_gradient_and_losses():
    vq = VectorQuantizer(4, 2, beta=0.5, ema=False)
    z = torch.randn(3, 2, 5, requires_grad=True)
    q, idx, loss = vq(z)
    e = vq.codebook[idx].permute(0, 2, 1)
    torch.testing.assert_close(q, e)  # forward value is the codeword
    expected = ((e - z) ** 2).mean() * (1 + 0.5)  # codebook loss + beta x commitment
    torch.testing.assert_close(loss, expected)
    q.sum().backward()
    torch.testing.assert_close(z.grad, torch.ones_like(z))  # straight-through: identity gradient
    assert vq.codebook.grad is None  # decoder path gives the codebook no gradient...
    vq.zero_grad()
    _, _, loss = vq(z)
    loss.backward()
    assert vq.codebook.grad is not None and vq.codebook.grad.abs().sum() > 0  # ...its loss does


def test_ema_moves_codewords_toward_assigned_vectors():
    vq = VectorQuantizer(2, 1, ema=True, decay=0.5, dead_restart=False)
    vq.codebook.copy_(torch.tensor([[0.0], [10.0]]))
    vq.ema_sum.copy_(vq.codebook)
    vq.train()
    z = torch.full((4, 1, 1), 2.0)
    for _ in range(10):
        vq(z)
    assert abs(vq.codebook[0, 0].item() - 2.0) < 0.05 and vq.codebook[1, 0].item() == pytest.approx(10.0, rel=0.05)


def test_architectures_load_and_count():
    a = load_arch("default")
    assert a.latent_positions == 16 and a.indices_per_spike == 16 and a.bits_per_spike_fixed == 16 * 7 + 3  # + the gain code
    assert count_encoder_macs(CAE(load_arch("paper"))) > count_encoder_macs(CAE(load_arch("conv"))) > count_encoder_macs(CAE(a))
    assert count_encoder_macs(CAE(a)) == 256 * 64 + 64 * 64 + 64 * 32 + 16 * 2 * 128  # dense layers + codeword search
    x = torch.randn(2, 4, 64)
    for name in ("default", "conv", "paper", "tiny", "tiny-dense", "rd-l8"):
        m = CAE(load_arch(name)).eval()
        rec, idx, _ = m(x)
        assert rec.shape == x.shape and idx.shape == (2, load_arch(name).indices_per_spike)


def test_tiny_training_lowers_loss_and_round_trips(tiny_checkpoint):
    p = load_checkpoint(tiny_checkpoint, kind="float")
    h = p["metrics"]["history"]
    assert h[0]["epoch"] == 0  # the untrained model's validation loss
    assert p["metrics"]["val_mse"] < 0.5 * h[0]["val_mse"], h
    card = json.loads(tiny_checkpoint.with_suffix(".json").read_text())
    assert card["content_hash"] == p["content_hash"] and card["arch"]["name"] == "tiny"
    assert p["index_counts"].shape == (16, 16)


def test_training_is_deterministic(tiny_set, tmp_path):
    from hwcae.model.train import train

    fit, val = tiny_set.halves()
    train(load_arch("tiny"), fit, val, tmp_path / "a.pt", epochs=1, seed=3, progress=False)
    train(load_arch("tiny"), fit, val, tmp_path / "b.pt", epochs=1, seed=3, progress=False)
    assert load_checkpoint(tmp_path / "a.pt")["content_hash"] == load_checkpoint(tmp_path / "b.pt")["content_hash"]


def test_corrupt_and_foreign_checkpoints(tiny_checkpoint, tmp_path):
    data = tiny_checkpoint.read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(HwcaeError, match="not a readable checkpoint"):
        load_checkpoint(cut)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(HwcaeError, match="not an hwcae checkpoint"):
        load_checkpoint(foreign)
    with pytest.raises(HwcaeError, match="not found"):
        load_checkpoint(tmp_path / "none.pt")
    with pytest.raises(HwcaeError, match="expected qat"):
        load_checkpoint(tiny_checkpoint, kind="qat")
    p = load_checkpoint(tiny_checkpoint)
    p["state_dict"]["encoder.head.0.weight"] += 1.0
    altered = tmp_path / "altered.pt"
    torch.save(p, altered)
    with pytest.raises(HwcaeError, match="content hash"):
        load_checkpoint(altered)


def test_resume_continues(tiny_set, tmp_path):
    from hwcae.model.train import train

    fit, val = tiny_set.halves()
    out = tmp_path / "r.pt"
    train(load_arch("tiny"), fit, val, tmp_path / "full.pt", epochs=2, seed=1, progress=False)
    # simulate an interruption after epoch 1: train 1 epoch of a 2-epoch schedule, keep the resume state
    import hwcae.model.train as tr

    class Stop(Exception):
        pass

    calls = {"n": 0}
    real = tr.evaluate_loss

    def stop_after_first(*a, **k):
        calls["n"] += 1
        if calls["n"] == 3:  # call 1: untrained model, 2: after epoch 1 (saved), 3: after epoch 2
            raise Stop
        return real(*a, **k)

    tr.evaluate_loss = stop_after_first
    try:
        with pytest.raises(Stop):
            train(load_arch("tiny"), fit, val, out, epochs=2, seed=1, progress=False)
    finally:
        tr.evaluate_loss = real
    assert out.with_name("r.pt.resume").is_file() and not out.exists()
    train(load_arch("tiny"), fit, val, out, epochs=2, seed=1, progress=False, resume=True)
    assert load_checkpoint(out)["content_hash"] == load_checkpoint(tmp_path / "full.pt")["content_hash"]


def test_eval_with_checkpoint_has_cae_keys(tiny_checkpoint, tiny_npz, tmp_path):
    from hwcae.cli import main

    out = tmp_path / "e.json"
    assert main(["eval", "--data", str(tiny_npz), "--checkpoint", str(tiny_checkpoint), "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    for k in ("cr_fixed", "cr_entropy", "sndr_db_mean", "sndr_clean_db_mean", "sndr_clean_db_median",
              "sndr_channel_db_mean"):
        assert k in r and k in r["baselines"]["pca"]
    assert r["cr_fixed"] == pytest.approx(4096 / 64) and r["baselines"]["pca"]["bits_per_spike"] == 64
    assert r["cr_bytes"] > r["cr_fixed"] * 0.8 and r["cr_bytes_huffman"] > 0  # real bytes, times and channels included
    rows = r["footings"]["rows"]  # every footing: 16/12/10-bit snippets and the raw stream
    fixed = rows["fixed length"]
    assert fixed["cr_snippet16"] == pytest.approx(r["cr_fixed"]) and fixed["cr_snippet10"] == pytest.approx(r["cr_fixed"] * 10 / 16)
    hwc = next(v for k, v in rows.items() if k.startswith(".hwc"))
    assert hwc["cr_snippet16"] == pytest.approx(r["cr_bytes"])
    assert hwc["cr_stream"] == pytest.approx(r["footings"]["sample_rate_hz"] * 12 / (r["footings"]["rate_hz"] * hwc["bits_per_spike"]))
    h = r["index_entropy_bits_by_position"]  # where the bits carry information: one entropy per latent position
    k = load_checkpoint(tiny_checkpoint)["arch"]["vq"]["codebook_size"]
    assert len(h) == load_arch("tiny").indices_per_spike and all(0 <= v <= math.log2(k) + 1e-9 for v in h)
    assert sum(h) <= len(h) * r["index_entropy_bits"] + 1e-9  # a mixture's entropy is at least its parts' mean


def test_kmeans_codebook_beats_a_random_sample_of_the_vectors():
    g = torch.Generator().manual_seed(0)
    centres = torch.randn(8, 2, generator=g) * 5
    x = centres[torch.randint(0, 8, (800,), generator=g)] + 0.1 * torch.randn(800, 2, generator=g)
    vq = VectorQuantizer(8, 2)
    err = vq.fit_kmeans(x, torch.Generator().manual_seed(1))
    assert err < 0.05  # eight tight clusters, eight codewords: each finds its own
    assert torch.equal(vq.ema_sum, vq.codebook) and torch.all(vq.ema_count == 1)
    sample = x[:8]
    random_err = float((torch.cdist(x, sample) ** 2).min(1).values.mean())
    assert err < random_err / 10


def test_db_loss_is_the_mean_spike_sndr():
    from hwcae.metrics import sndr_db
    from hwcae.model.train import recon_loss

    g = torch.Generator().manual_seed(0)
    y = torch.randn(6, 4, 64, generator=g) * torch.linspace(0.1, 3, 6)[:, None, None]
    rec = y + 0.1 * torch.randn(6, 4, 64, generator=g)
    expected = -float(sndr_db(y.numpy(), rec.numpy()).mean()) / 10
    assert recon_loss(rec, y, "db").item() == pytest.approx(expected, abs=1e-4)


def test_noise_augmentation_touches_the_input_only():
    from hwcae.errors import HwcaeError
    from hwcae.model.config import arch_from_dict
    from hwcae.model.train import augment

    d = load_arch("tiny").model_dump(mode="json")
    d["train"].update(augment_shift=0, augment_scale=[1.0, 1.0], augment_noise_uv=[10.0, 10.0])
    a = arch_from_dict(d)
    y = torch.zeros(4000, 4, 64)
    xa, ya = augment(y.clone(), y.clone(), a, torch.Generator().manual_seed(0))
    assert torch.equal(ya, y)  # the clean target is untouched
    assert float(xa.std() * a.input_scale_uv) == pytest.approx(10.0, rel=0.01)  # 10 uV of noise
    d["train"]["augment_noise_uv"] = [5.0, 1.0]
    with pytest.raises((HwcaeError, ValueError), match="augment_noise_uv"):
        arch_from_dict(d)


def test_stretch_augmentation_keeps_the_input_noise():
    import numpy as np

    from hwcae.model.config import arch_from_dict
    from hwcae.model.train import augment
    from hwcae.spikes.warp import stretch

    g = torch.Generator().manual_seed(0)
    y = torch.randn(5, 4, 64, generator=g)
    assert np.allclose(stretch(y, 1.3).numpy(), stretch(y.numpy(), 1.3), atol=1e-6)  # torch = NumPy
    d = load_arch("tiny").model_dump(mode="json")
    d["train"].update(augment_shift=0, augment_scale=[1.0, 1.0], augment_stretch=[1.5, 1.5])
    noise = 0.1 * torch.randn(5, 4, 64, generator=g)
    xa, ya = augment(y + noise, y.clone(), arch_from_dict(d), g)
    assert torch.allclose(ya, stretch(y, 1.5))  # the clean target is stretched...
    assert torch.allclose(xa - ya, noise, atol=1e-6)  # ...and the input keeps its own noise


def test_global_head_and_dense_decoder_input():
    from hwcae.model.config import arch_from_dict

    d = load_arch("tiny").model_dump(mode="json")
    d["encoder"]["head_kernel"], d["decoder"]["input"], d["decoder"]["linear_skip"] = 31, "dense", True
    a = arch_from_dict(d)
    m = CAE(a).eval()
    x = torch.zeros(1, 4, 64)
    x[0, 0, 60] = 1.0  # an input at the end of the spike...
    z = m.encoder(x) - m.encoder(torch.zeros(1, 4, 64))
    assert z[0, :, 0].abs().sum() > 0  # ...reaches the first latent position through the 31-tap head
    rec, idx, _ = m(torch.randn(3, 4, 64))
    assert rec.shape == (3, 4, 64) and idx.shape == (3, 16)
    q = torch.randn(2, 4, 16)
    with torch.no_grad():
        m.decoder.skip.weight.zero_(), m.decoder.skip.bias.fill_(0.5)
        assert torch.allclose(m.decoder(q) - m.decoder.net(q), torch.full((2, 4, 64), 0.5))
    b = load_arch("tiny").model_dump(mode="json")
    b["encoder"]["head_kernel"] = 1
    assert count_encoder_macs(CAE(a)) - count_encoder_macs(CAE(arch_from_dict(b))) == 16 * 8 * 4 * 30
    d["encoder"]["head_kernel"] = 4
    with pytest.raises(HwcaeError, match="odd"):
        arch_from_dict(d)


def test_vq_warmup_trains_continuous_then_fits_the_codebook(tiny_set, tmp_path, monkeypatch):
    import hwcae.model.train as tr
    from hwcae.model.config import arch_from_dict

    d = load_arch("tiny").model_dump(mode="json")
    d["train"]["vq_warmup_epochs"] = 2
    fit, val = tiny_set.halves()
    calls, real = [], tr.fit_codebook

    @torch.no_grad()
    def spy(model, x, gen, *, kmeans, **kw):
        before = model.vq.codebook.clone()
        real(model, x, gen, kmeans=kmeans, **kw)
        z = model.vectors(model.encoder(x[:256])).permute(0, 2, 1).reshape(-1, model.arch.vector_dim)
        err = lambda cb: float((torch.cdist(z, cb) ** 2).min(1).values.mean())  # noqa: E731
        calls.append((kmeans, before, err(before), err(model.vq.codebook)))

    monkeypatch.setattr(tr, "fit_codebook", spy)
    p = tr.train(arch_from_dict(d), fit, val, tmp_path / "w.pt", epochs=3, seed=0, progress=False)
    assert len(calls) == 1 and calls[0][0]  # one k-means fit, at the end of the warm-up
    kmeans, before, err_before, err_after = calls[0]
    assert before.abs().max() <= 1 / 16  # the constructor's codebook: no EMA update while the VQ was bypassed
    assert err_after < 0.2 * err_before  # k-means fits the latents far better (measured ratio ~0.1)
    h = p["metrics"]["history"]
    assert len(h) == 4 and p["metrics"]["val_sndr_db"] == pytest.approx(h[3]["val_sndr_db"], abs=1e-6)
    with pytest.raises(HwcaeError, match="warm-up"):
        tr.train(arch_from_dict(d), fit, val, tmp_path / "x.pt", epochs=2, seed=0, progress=False)


def _tiny_dense(**encoder):
    from hwcae.model.config import arch_from_dict

    d = load_arch("tiny").model_dump(mode="json")
    d["encoder"].update(dict(kind="dense", hidden=[32], positions=8, blocks=[]), **encoder)
    d["decoder"]["hidden"] = [16]
    return arch_from_dict(d)


def test_dense_encoder_and_decoder_shapes_macs_and_reach():
    a = _tiny_dense()
    assert a.indices_per_spike == 8 and a.bits_per_spike_fixed == 8 * 4
    assert count_encoder_macs(CAE(a)) == 256 * 32 + 32 * 4 * 8 + 8 * 4 * 16  # two layers + codeword search
    m = CAE(a).eval()
    rec, idx, _ = m(torch.randn(3, 4, 64))
    assert rec.shape == (3, 4, 64) and idx.shape == (3, 8)
    x = torch.zeros(1, 4, 64)
    x[0, 3, 63] = 1.0  # the last sample of the last channel reaches every latent position
    with torch.no_grad():
        assert (m.encoder(x) - m.encoder(torch.zeros(1, 4, 64)))[0].abs().sum(0).min() > 0
        m.decoder.skip.weight.zero_(), m.decoder.skip.bias.fill_(0.5)
        q = torch.randn(2, 4, 8)
        assert torch.allclose(m.decoder(q) - m.decoder.net(q), torch.full((2, 4, 64), 0.5))


def test_dense_encoder_validation():
    from hwcae.model.config import arch_from_dict

    with pytest.raises(HwcaeError, match="needs hidden widths and positions"):
        _tiny_dense(positions=None)
    d = load_arch("tiny").model_dump(mode="json")
    d["encoder"]["hidden"] = [8]
    with pytest.raises(HwcaeError, match="belong to dense encoders"):
        arch_from_dict(d)


def test_dense_training_lowers_the_loss(tiny_set, tmp_path):
    from hwcae.model.train import train

    fit, val = tiny_set.halves()
    p = train(_tiny_dense(), fit, val, tmp_path / "d.pt", epochs=4, seed=0, progress=False)
    h = p["metrics"]["history"]
    assert p["metrics"]["val_mse"] < 0.7 * h[0]["val_mse"]  # epoch 0: before any training
    assert load_checkpoint(tmp_path / "d.pt")["arch"]["encoder"]["kind"] == "dense"
