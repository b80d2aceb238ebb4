import math

import numpy as np
import torch

from hwcae.fixedpoint.graph import Word
from hwcae.quantize.extract import extract, quantizer_words
from hwcae.quantize.qat import load_qat


def test_qat_checkpoint_round_trip_and_power_of_two_scales(each_qat):
    model, arch, design, payload = load_qat(each_qat)
    assert payload["kind"] == "qat" and design.name == f"{arch.name}-w8a8" and arch.name in ("tiny", "tiny-dense")
    fp = extract(model.encoder)  # raises unless every scale is a power of two
    assert fp.input == Word(12, True, -design.input_frac_bits(arch.input_scale_uv))
    for c in fp.convs():
        assert np.abs(c.w).max() <= 2 ** (c.w_bits - 1) - 1  # narrow signed weights
    assert math.isfinite(payload["metrics"]["val_sndr_db"])
    again = load_qat(each_qat)[0]
    x = torch.randn(8, 4, 64) * 0.3
    assert torch.equal(model.encode(x), again.encode(x))


def test_codebook_is_quantised_and_search_uses_it(each_qat):
    model, arch, design, _ = load_qat(each_qat)
    cb = model.encoder.codebook_q()
    fp = extract(model.encoder)
    np.testing.assert_array_equal(cb.numpy(), fp.search.codebook * 2.0**fp.search.exp)
    z = model.encoder.latent(torch.randn(4, 4, 64) * 0.3).value
    d = ((z.permute(0, 2, 1)[:, :, None, :] - cb[None, None]) ** 2).sum(-1)
    assert torch.equal(model.encoder.scores(z).argmax(1), d.argmin(-1))


def test_dense_from_float_keeps_the_float_encoder_in_the_chip_layout():
    """The fixed-point dense encoder holds the float one's weights permuted to the chip's layout
    (sample-major input t x 4 + c, position-major latent p x D + d): with the quantisers left out
    its layers compute the float latent exactly; the quantised latent reads the same layout."""
    import torch.nn.functional as F

    from hwcae.model.cae import CAE
    from hwcae.model.config import load_arch
    from hwcae.quantize.design import load_design
    from hwcae.quantize.build import from_float

    torch.manual_seed(0)
    arch = load_arch("tiny-dense")
    fm = CAE(arch).eval()
    q = from_float(arch, load_design("w8a8").model_copy(update={"arch": arch.name}), fm)
    x = torch.randn(64, 4, 64) * 0.3
    with torch.no_grad():
        h = q.to_export_layout(x)
        for fc in q.fcs:
            h = torch.relu(F.linear(h, fc.weight, fc.bias))
        z = F.linear(h, q.head.weight, q.head.bias).view(len(x), arch.latent_positions, -1).transpose(1, 2)
        torch.testing.assert_close(z, fm.encoder(x), rtol=1e-5, atol=1e-6)
        q.train()
        for _ in range(40):  # calibrate the activation scales (runtime statistics)
            q.latent(x)
        q.eval()
        flat = q.flat_latent(q.to_export_layout(x)).value  # what the chip writes
        assert torch.equal(flat.view(len(x), arch.latent_positions, -1).transpose(1, 2), q.latent(x).value)
        assert (q.latent(x).value - fm.encoder(x)).abs().mean() < 0.1 * fm.encoder(x).abs().mean()


def test_activation_ranges_tuned_on_val_recover_ranges_made_too_wide(tiny_qat, tiny_set):
    """Every hidden word's range made 8x too wide (3 bits of resolution lost) costs SNDR; the val
    search moves the radix points back at least 2 bits each, recovers the loss, and the fixed-point
    graph follows. (The tiny conv model: the tiny dense one scores too low for its ranges to matter.)"""
    from hwcae.model.train import to_tensors
    from hwcae.quantize.qat import _log2_range, tune_activation_ranges, val_metrics

    model, arch, design, payload = load_qat(tiny_qat)
    assert design.activation_range == "val_sndr" and set(payload["metrics"]["activation_range_steps"]) <= set(model.encoder.act_quantizers())
    _, val = tiny_set.halves()
    xv, yv = to_tensors(val, arch, arch.train.denoise)
    before, exps = val_metrics(model, xv, yv)["val_sndr_db"], {n: w.exp for n, w in quantizer_words(model.encoder).items()}
    with torch.no_grad():
        for q in {id(q): q for n, q in model.encoder.act_quantizers().items() if n != "input"}.values():
            _log2_range(q).add_(3)
    assert all(w.exp == exps[n] + 3 * (n != "input") for n, w in quantizer_words(model.encoder).items())
    wide = val_metrics(model, xv, yv)["val_sndr_db"]
    steps = tune_activation_ranges(model, xv, yv)
    after = val_metrics(model, xv, yv)["val_sndr_db"]
    assert wide < before - 0.2 and min(steps.values()) >= 2 and after >= before - 0.1, (before, wide, after, steps)
    assert all(quantizer_words(model.encoder)[n].exp == exps[n] + 3 - k for n, k in steps.items())
