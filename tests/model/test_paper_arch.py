"""The `paper` arch's options: which convs of a bottleneck are grouped."""
import torch

from hwcae.model.cae import CAE
from hwcae.model.config import arch_from_dict, load_arch


def _with_grouped(grouped: str):
    d = load_arch("paper").model_dump(mode="json")
    for b in d["encoder"]["blocks"]:
        b["grouped"] = grouped
    return arch_from_dict(d, "test")


def test_grouped_mid_groups_only_the_k_tap_conv_and_all_groups_every_conv():
    every = CAE(_with_grouped("all")).encoder.blocks[0]
    mid = CAE(_with_grouped("mid")).encoder.blocks[0]
    g = every.mid[0].groups
    assert g > 1 and mid.mid[0].groups == g
    assert every.reduce[0].groups == every.expand[0].groups == g
    assert mid.reduce[0].groups == mid.expand[0].groups == 1
    # with the 1x1s ungrouped, a change in one group's channels reaches every group's output
    torch.manual_seed(0)
    x = torch.randn(8, 256, 16)
    for block, mixes in ((every, False), (mid, True)):
        block.eval()
        x2 = x.clone()
        x2[:, 0] += 1.0  # a channel of group 0
        diff = (block(x2) - block(x)).abs().sum(dim=(0, 2))
        assert bool(diff[-8:].sum() > 0) == mixes  # the last group's channels


def test_grouped_defaults_to_all_and_paper_keeps_the_seeds_shape():
    from hwcae.model.config import Block

    assert Block(bottleneck=8).grouped == "all"  # every arch without the key (and its checkpoints) unchanged
    assert all(b.grouped == "all" for b in load_arch("conv").encoder.blocks)
    paper = load_arch("paper")  # the seed's code groups all three convs of its block; the dB loss, gain stage
    assert all(b.grouped == "all" for b in paper.encoder.blocks) and paper.train.loss == "db" and paper.gain


def test_sse_loss_is_the_summed_squared_error_per_spike():
    """`loss: sse` (the seed's sum-MSE) = squared error summed over the 4 x 64 samples, mean over spikes."""
    import torch

    from hwcae.model.train import recon_loss

    rec, target = torch.randn(5, 4, 64), torch.randn(5, 4, 64)
    assert torch.allclose(recon_loss(rec, target, "sse"), recon_loss(rec, target, "mse") * 256)
    assert torch.allclose(recon_loss(rec, target, "sse"), ((rec - target) ** 2).sum((1, 2)).mean())


def test_design_max_train_is_a_whole_positive_budget():
    import pytest

    from hwcae.quantize.design import load_design

    d = load_design("paper-w8a8")
    assert d.arch == "paper" and d.qat["max_train"] == 20000
    for bad in (0, 1.5):
        with pytest.raises(ValueError, match="max_train"):
            d.model_validate({**d.model_dump(), "qat": {**d.qat, "max_train": bad}})


def test_a_shared_block_refuses_batch_norm():
    """One batch norm serving both uses of the shared block blends two activation statistics (issue
    28: -3.3 dB on one recording); the config says so in one line, and `paper` has no BN on chip."""
    import pytest

    from hwcae.errors import HwcaeError

    paper = load_arch("paper")
    assert paper.encoder.batch_norm is False and paper.encoder.share_weights
    d = paper.model_dump(mode="json")
    d["encoder"]["batch_norm"] = True
    with pytest.raises(HwcaeError, match="share_weights needs batch_norm: false"):
        arch_from_dict(d, "test")
    d["encoder"]["share_weights"] = False  # separate blocks may keep their batch norms
    assert arch_from_dict(d, "test").encoder.batch_norm
