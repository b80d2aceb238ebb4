"""Folding batch norm into the preceding convolution (exact in float, done before QAT)."""
from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def folded_conv(seq: nn.Sequential) -> tuple[torch.Tensor, torch.Tensor]:
    """(weight, bias) of ``conv [+ bn]`` as one convolution (BN in inference mode)."""
    conv = seq[0]
    w = conv.weight.clone()
    b = conv.bias.clone() if conv.bias is not None else torch.zeros(w.shape[0])
    if len(seq) > 1 and isinstance(seq[1], nn.BatchNorm1d):
        bn = seq[1]
        g = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        w = w * g[:, None, None]
        b = (b - bn.running_mean) * g + bn.bias
    return w, b
