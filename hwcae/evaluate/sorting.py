"""Spike-sorting impact: cluster original and reconstructed spikes the same way, score both
against the ground-truth units.

Per recording (a sorter sees one recording at a time): features = the first 6 principal
components of the flattened 4 x 64 spikes, clustered by a Gaussian mixture with as many
components as the recording has units; accuracy = the fraction of spikes in the best one-to-one
matching of clusters to units (Hungarian). Recordings with fewer than ``min_spikes`` are skipped.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture


def matched_accuracy(labels: np.ndarray, clusters: np.ndarray) -> float:
    units, li = np.unique(labels, return_inverse=True)
    cl, ci = np.unique(clusters, return_inverse=True)
    conf = np.zeros((len(units), len(cl)))
    np.add.at(conf, (li, ci), 1)
    r, c = linear_sum_assignment(-conf)
    return float(conf[r, c].sum() / len(labels))


def cluster_accuracy(spikes: np.ndarray, labels: np.ndarray, seed: int = 0) -> float:
    flat = spikes.reshape(len(spikes), -1).astype(np.float64)
    feats = PCA(n_components=min(6, flat.shape[1], len(flat) - 1), random_state=seed).fit_transform(flat)
    k = len(np.unique(labels))
    gmm = GaussianMixture(k, covariance_type="full", n_init=2, random_state=seed, reg_covar=1e-3)
    return matched_accuracy(labels, gmm.fit_predict(feats))


def sorting_accuracy(spikes: np.ndarray, labels: np.ndarray, recording: np.ndarray | None,
                     min_spikes: int = 100) -> float:
    """Spike-weighted mean accuracy over recordings."""
    rec = np.zeros(len(spikes), np.int64) if recording is None else recording
    total = n = 0.0
    for r in np.unique(rec):
        sel = rec == r
        if sel.sum() < min_spikes or len(np.unique(labels[sel])) < 2:
            continue
        total += cluster_accuracy(spikes[sel], labels[sel]) * sel.sum()
        n += sel.sum()
    return total / n if n else float("nan")
