import math

import numpy as np
import torch

from hwcae.export import fixed_point
from hwcae.quantize.qat import load_qat


def test_qat_checkpoint_round_trip_and_power_of_two_scales(tiny_qat):
    model, arch, design, payload = load_qat(tiny_qat)
    assert payload["kind"] == "qat" and design.name == "tiny-w8a8" and arch.name == "tiny"
    fp = fixed_point.extract(model.encoder)  # raises unless every scale is a power of two
    assert fp["acts"]["input"] == {"bits": 12, "signed": True, "exp": -design.input_frac_bits(arch.input_scale_uv)}
    for c in fp["convs"].values():
        assert np.abs(c["w"]).max() <= 2 ** (c["w_bits"] - 1) - 1  # narrow signed weights
    assert math.isfinite(payload["metrics"]["val_sndr_db"])
    again = load_qat(tiny_qat)[0]
    x = torch.randn(8, 4, 64) * 0.3
    assert torch.equal(model.encode(x), again.encode(x))


def test_codebook_is_quantised_and_search_uses_it(tiny_qat):
    model, arch, design, _ = load_qat(tiny_qat)
    cb = model.encoder.codebook_q()
    fp = fixed_point.extract(model.encoder)
    np.testing.assert_array_equal(cb.numpy(), fp["codebook"]["w"] * 2.0 ** fp["codebook"]["exp"])
    z = model.encoder.latent(torch.randn(4, 4, 64) * 0.3).value
    d = ((z.permute(0, 2, 1)[:, :, None, :] - cb[None, None]) ** 2).sum(-1)
    assert torch.equal(model.encoder.score(z).argmax(1), d.argmin(-1))
