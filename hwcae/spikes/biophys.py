"""Biophysical spike templates: multi-compartment neurons simulated in NEURON, extracellular potentials
at the probe's contacts by LFPykit's line-source model.

This is a second, independent template source for the external suite (``hwcae/evaluate/suite.yaml``),
never used for training: the built-in generator's templates are SpikeInterface's parametric
waveforms (three exponentials scaled and delayed per channel), whereas these come from membrane
currents. Each unit is a ball-and-stick style cell with random morphology (soma, optional apical
dendrite, 2-6 basal dendrites, axon initial segment and axon), Hodgkin-Huxley channels in the soma
and axon, passive dendrites, fired once by a fast somatic synapse; its waveforms differ between
channels in shape, not only in size and delay (capacitive pre-phase, initial-segment/soma break,
dendritic return currents). The potential is band-passed 300-6000 Hz, as a recorder would, and
scaled by a per-unit gain (this simplified cell's absolute amplitude has no meaning of its own).
"""
from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("NEURON_MODULE_OPTIONS", "-nogui")  # no display: no graphics banner

FINE_DT_MS = 0.005  # simulation step (200 kHz)
SIGMA_S_PER_M = 0.3  # extracellular conductivity


def _rotation(rng: np.random.Generator) -> np.ndarray:
    """A random rotation that tilts the cell's main axis (+y) up to 60 degrees off the probe's axis."""
    tilt, az, spin = rng.uniform(-np.pi / 3, np.pi / 3), rng.uniform(0, 2 * np.pi), rng.uniform(0, 2 * np.pi)

    def about(axis, a):
        c, s = np.cos(a), np.sin(a)
        i, j = [k for k in range(3) if k != axis]
        m = np.eye(3)
        m[i, i], m[i, j], m[j, i], m[j, j] = c, -s, s, c
        return m

    return about(1, az) @ about(2, tilt) @ about(1, spin)


def draw_cell(rng: np.random.Generator) -> dict:
    """Random cell parameters (morphology in um, conductances in S/cm2, temperature in C)."""
    pyramidal = bool(rng.random() < 0.6)
    return dict(
        pyramidal=pyramidal, soma_um=float(rng.uniform(12, 25)), ra=float(rng.uniform(100, 200)),
        gk=float(rng.uniform(0.03, 0.08)), gna_ais=float(rng.uniform(0.2, 0.8)), celsius=float(rng.uniform(6, 22)),
        apical_um=float(rng.uniform(200, 700)) if pyramidal else 0.0, apical_diam=float(rng.uniform(2, 5)),
        basals=int(rng.integers(2, 6) if pyramidal else rng.integers(4, 8)),
        synapse=float(rng.uniform(0.05, 0.08)),
    )


def simulate_cell(cell: dict, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Simulate one action potential; returns (segment starts (S, 3) um, segment ends (S, 3) um,
    diameters (S,) um, membrane currents (S, T) nA on the FINE_DT_MS grid)."""
    from neuron import h

    h.load_file("stdrun.hoc")
    secs = []

    def section(L, diam, nseg, start, direction, active, gna=0.12):
        s = h.Section()
        s.L, s.diam, s.nseg, s.Ra, s.cm = L, diam, nseg, cell["ra"], 1.0
        if active:
            s.insert("hh")
            for seg in s:
                seg.hh.gnabar, seg.hh.gkbar, seg.hh.gl = gna, cell["gk"], 0.0003
        else:
            s.insert("pas")
            for seg in s:
                seg.pas.g, seg.pas.e = 1 / 20000.0, -65.0
        d = np.asarray(direction, float)
        secs.append((s, np.asarray(start, float), d / np.linalg.norm(d)))
        return s

    r = cell["soma_um"] / 2
    soma = section(2 * r, 2 * r, 1, [0, -r, 0], [0, 1, 0], True)
    if cell["pyramidal"]:
        section(cell["apical_um"], cell["apical_diam"], 21, [0, r, 0], [rng.normal(0, 0.15), 1, rng.normal(0, 0.15)],
                False).connect(soma(1))
    for _ in range(cell["basals"]):
        a = rng.uniform(0, 2 * np.pi)
        section(rng.uniform(80, 250), rng.uniform(0.8, 2.0), 9, [0, 0, 0],
                [np.cos(a), rng.uniform(-0.9, 0.5 if cell["pyramidal"] else 0.9), np.sin(a)], False).connect(soma(0.5))
    ax_dir = np.array([rng.normal(0, 0.3), -1.0, rng.normal(0, 0.3)])
    ax_dir /= np.linalg.norm(ax_dir)
    ais = section(30, 1.2, 5, [0, -r, 0], ax_dir, True, gna=cell["gna_ais"])
    ais.connect(soma(0))
    section(300, 1.0, 15, np.array([0, -r, 0]) + 30 * ax_dir, ax_dir, True).connect(ais(1))

    h.celsius = cell["celsius"]
    h.CVode().use_fast_imem(1)
    syn = h.ExpSyn(soma(0.5))
    syn.tau, syn.e = 0.3, 0.0
    stim = h.NetStim()
    stim.number, stim.start = 1, 5.0
    con = h.NetCon(stim, syn)
    con.weight[0] = cell["synapse"]
    records, starts, ends, diams = [], [], [], []
    for s, p0, u in secs:
        for k, seg in enumerate(s):
            v = h.Vector()
            v.record(seg._ref_i_membrane_, FINE_DT_MS)
            records.append(v)
            starts.append(p0 + u * s.L * k / s.nseg)
            ends.append(p0 + u * s.L * (k + 1) / s.nseg)
            diams.append(s.diam)
    h.dt = FINE_DT_MS
    h.finitialize(-65.0)
    h.continuerun(15.0)
    currents = np.array([np.asarray(v) for v in records])
    del con, stim, syn, records, secs, soma, ais  # NEURON frees sections once Python holds no reference
    return np.array(starts), np.array(ends), np.array(diams), currents


def extracellular_uv(starts, ends, diams, currents, contacts_um: np.ndarray) -> np.ndarray:
    """(contacts, T) potential in uV at contacts (x, y, z) um from segment currents (LFPykit line source)."""
    import lfpykit

    geom = lfpykit.CellGeometry(x=np.stack([starts[:, 0], ends[:, 0]], 1), y=np.stack([starts[:, 1], ends[:, 1]], 1),
                                z=np.stack([starts[:, 2], ends[:, 2]], 1), d=diams)
    model = lfpykit.LineSourcePotential(geom, x=contacts_um[:, 0], y=contacts_um[:, 1], z=contacts_um[:, 2],
                                        sigma=SIGMA_S_PER_M)
    return model.get_transformation_matrix() @ currents * 1000.0  # mV -> uV


def biophysical_templates(positions_um: np.ndarray, unit_locations_um: np.ndarray, fs_hz: float, *,
                          ms_before: float = 1.5, ms_after: float = 3.0, upsample: int = 1,
                          gain: tuple[float, float] = (4.0, 15.0), seed: int = 0,
                          cell_ids: np.ndarray | None = None) -> np.ndarray:
    """(units, samples, channels, upsample) templates in uV, trough of the strongest channel at
    ``ms_before``; sub-sample shift j / (fs x upsample) along the last axis, as SpikeInterface's are.
    ``cell_ids`` (default: one cell per location) lets several locations share a cell: a drifting
    unit is the same neuron, with the same morphology, orientation and gain, seen from elsewhere."""
    from scipy.signal import butter, sosfiltfilt

    fine_fs = 1000.0 / FINE_DT_MS
    sos = butter(2, [300.0, 6000.0], btype="band", fs=fine_fs, output="sos")
    nbefore, nafter = int(round(ms_before * fs_hz / 1000)), int(round(ms_after * fs_hz / 1000))
    out = np.zeros((len(unit_locations_um), nbefore + nafter, len(positions_um), upsample), np.float32)
    contacts0 = np.column_stack([positions_um, np.zeros(len(positions_um))])
    cell_ids = np.arange(len(unit_locations_um)) if cell_ids is None else np.asarray(cell_ids)
    for u, loc in enumerate(np.asarray(unit_locations_um, float)):
        rng = np.random.default_rng([seed, int(cell_ids[u])])
        cell = draw_cell(rng)
        starts, ends, diams, currents = simulate_cell(cell, rng)
        rot = _rotation(rng)
        # the cell is fixed and the probe moves: contacts in the cell's frame
        contacts = (contacts0 - loc) @ rot
        v = sosfiltfilt(sos, extracellular_uv(starts, ends, diams, currents, contacts), axis=1)
        v *= np.exp(rng.uniform(np.log(gain[0]), np.log(gain[1])))
        best = int(np.argmax(np.abs(v).max(axis=1)))
        trough = int(np.argmin(v[best]))
        fine_t = (np.arange(v.shape[1]) - trough) * FINE_DT_MS
        for j in range(upsample):
            t = (np.arange(-nbefore, nafter) + j / upsample) * 1000.0 / fs_hz
            out[u, :, :, j] = np.stack([np.interp(t, fine_t, row, left=0.0, right=0.0) for row in v], axis=1)
    return out
