"""Vector quantiser (VQ-VAE): nearest codeword by squared L2, straight-through gradient.

Latent (N, D, L) holds L vectors of D dims (one per latent position); each becomes one codeword
index. Nearest codeword = argmax over k of  z.e_k - ||e_k||^2 / 2  (the form the firmware
computes: a 1x1 conv with the codebook as weights plus a bias, then argmax); ties go to the
lowest index, as torch.argmax does.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def nearest_codeword(z: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    """Indices (N, L) of the nearest codeword for each latent vector of z (N, D, L)."""
    scores = torch.einsum("ndl,kd->nkl", z, codebook) - 0.5 * (codebook**2).sum(1)[None, :, None]
    return scores.argmax(dim=1)


class VectorQuantizer(nn.Module):
    def __init__(self, codebook_size: int, dim: int, beta: float = 0.25, ema: bool = True,
                 decay: float = 0.99, dead_restart: bool = True):
        super().__init__()
        self.k, self.dim, self.beta = codebook_size, dim, beta
        self.use_ema, self.decay, self.dead_restart = ema, decay, dead_restart
        init = torch.empty(codebook_size, dim).uniform_(-1.0 / codebook_size, 1.0 / codebook_size)
        if ema:
            self.register_buffer("codebook", init)
            self.register_buffer("ema_count", torch.ones(codebook_size))
            self.register_buffer("ema_sum", init.clone())
        else:
            self.codebook = nn.Parameter(init)

    @torch.no_grad()
    def set_codebook(self, codebook: torch.Tensor) -> None:
        """Replace the codebook (K, D); the EMA statistics restart from it."""
        self.codebook.data.copy_(codebook)
        if self.use_ema:
            self.ema_sum.copy_(codebook)
            self.ema_count.fill_(1.0)

    @torch.no_grad()
    def fit_kmeans(self, vectors: torch.Tensor, gen: torch.Generator, iters: int = 25) -> float:
        """Lloyd's k-means on vectors (M, D), seeded by k-means++ from ``gen``; sets the codebook
        and returns the mean squared quantisation error per vector. Empty clusters take the
        vector farthest from its codeword."""
        x = vectors.double()
        first = int(torch.randint(0, len(x), (1,), generator=gen))
        c = x[first:first + 1]
        d2 = ((x - c) ** 2).sum(1)
        for _ in range(1, self.k):  # k-means++ seeding
            pick = int(torch.multinomial(d2 / d2.sum(), 1, generator=gen))
            c = torch.cat([c, x[pick:pick + 1]])
            d2 = torch.minimum(d2, ((x - x[pick]) ** 2).sum(1))
        for _ in range(iters):
            dist = torch.cdist(x, c) ** 2
            d2, idx = dist.min(1)
            counts = torch.bincount(idx, minlength=self.k)
            sums = torch.zeros_like(c).index_add_(0, idx, x)
            empty = counts == 0
            c = torch.where(empty[:, None], c, sums / counts.clamp(min=1)[:, None].double())
            if empty.any():
                far = torch.argsort(d2, descending=True)[: int(empty.sum())]
                c[empty] = x[far]
        self.set_codebook(c.to(self.codebook.dtype))
        return float((torch.cdist(x, c) ** 2).min(1).values.mean())

    def lookup(self, idx: torch.Tensor) -> torch.Tensor:
        """Codewords for indices (N, L) -> (N, D, L)."""
        return self.codebook[idx].permute(0, 2, 1)

    def forward(self, z: torch.Tensor):
        """Returns (quantised z with straight-through gradient, indices, vq loss)."""
        idx = nearest_codeword(z.detach(), self.codebook.detach())
        q = self.lookup(idx)
        commitment = F.mse_loss(z, q.detach())
        if self.use_ema:
            loss = self.beta * commitment
            if self.training:
                self._ema_update(z.detach(), idx)
        else:
            loss = F.mse_loss(q, z.detach()) + self.beta * commitment
        q_st = z + (q - z).detach()
        return q_st, idx, loss

    @torch.no_grad()
    def _ema_update(self, z: torch.Tensor, idx: torch.Tensor) -> None:
        flat = z.permute(0, 2, 1).reshape(-1, self.dim)
        onehot = F.one_hot(idx.reshape(-1), self.k).type_as(flat)
        count = onehot.sum(0)
        self.ema_count.mul_(self.decay).add_(count, alpha=1 - self.decay)
        self.ema_sum.mul_(self.decay).add_(onehot.t() @ flat, alpha=1 - self.decay)
        n = self.ema_count.sum()
        smoothed = (self.ema_count + 1e-5) / (n + self.k * 1e-5) * n
        self.codebook.copy_(self.ema_sum / smoothed[:, None])
        if self.dead_restart:
            dead = self.ema_count < 1e-3 * n / self.k
            if dead.any():
                pick = torch.randint(0, flat.shape[0], (int(dead.sum()),), device=flat.device)
                self.codebook[dead] = flat[pick]
                self.ema_sum[dead] = flat[pick]
                self.ema_count[dead] = 1.0
