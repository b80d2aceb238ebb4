"""Spike sets are checked once, on load: generated bad files (shapes, dtypes, non-finite values, an
empty set, bad times / channels / labels / fs) are one line through every verb that reads them, and
nothing is written; odd but valid sets load with a warning."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.robustness.conftest import ROOT, assert_refused, run_cli, snapshot, waveforms, write_npz

N = 12
FLOAT_CKPT = ROOT / "models/float.pt"
QAT_CKPT = ROOT / "models/qat-w8a8.pt"
HYP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def bad_spikes():
    """(arrays, words the one-line error must contain) with a bad 'spikes' array."""
    good = waveforms(N)
    shapes = st.lists(st.integers(0, 70), min_size=0, max_size=4).map(tuple).filter(
        lambda s: len(s) != 3 or s[1:] != (4, 64))
    return st.one_of(
        shapes.map(lambda s: ({"spikes": np.zeros(s, np.float32)}, ["shape"])),
        st.sampled_from([np.int16, np.int64, np.bool_, np.complex64, np.uint8]).map(
            lambda t: ({"spikes": good.astype(t)}, ["floating point"])),
        st.just(({"spikes": np.array([["a"] * 64] * 4)[None].repeat(N, 0)}, ["floating point"])),
        st.tuples(st.integers(0, N - 1), st.integers(0, 3), st.integers(0, 63),
                  st.sampled_from([np.nan, np.inf, -np.inf, 1e39])).map(
            lambda t: ({"spikes": _poke(good, *t)}, ["NaN, Inf", f"spike {t[0]}"])),
        st.just(({"spikes": np.zeros((0, 4, 64), np.float32)}, ["no spikes"])),
    )


def _poke(a, i, c, k, v):
    a = a.astype(np.float64)
    a[i, c, k] = v
    return a


def bad_extras():
    """A good 'spikes' with a bad times / channels / labels / recording / fs / clean."""
    good = waveforms(N)
    index = st.one_of(
        st.integers(0, 3 * N).filter(lambda n: n != N).map(lambda n: (np.arange(n), "shape")),
        st.just((np.arange(N).reshape(N // 2, 2), "shape")),
        st.just((np.arange(N) - 1, "[0, 2^62)")),
        st.just((np.full(N, 2**62, np.int64), "[0, 2^62)")),
        st.just((np.full(N, 2**63, np.uint64), "[0, 2^62)")),
        st.just((np.arange(N, dtype=np.float64), "integers")),
        st.just((np.array([str(i) for i in range(N)]), "integers")),
        st.just((np.ones(N, bool), "integers")),
    )
    return st.one_of(
        st.tuples(st.sampled_from(["times", "channels"]), index).map(
            lambda t: ({"spikes": good, t[0]: t[1][0]}, [t[0], t[1][1]])),
        st.sampled_from(["labels", "recording"]).map(lambda k: ({"spikes": good, k: np.zeros(N, np.float32)}, [k])),
        st.sampled_from([np.array(-1.0), np.array(np.nan), np.array(0.0), np.array("24k"), np.ones(N + 1)]).map(
            lambda fs: ({"spikes": good, "fs": fs}, ["fs"])),
        st.just(({"spikes": good, "clean": good[:-1]}, ["clean"])),
    )


@HYP
@given(case=st.one_of(bad_spikes(), bad_extras()))
def test_data_info_refuses_bad_sets_in_one_line(case, tmp_path_factory, capsys):
    arrays, words = case
    path = write_npz(tmp_path_factory.mktemp("bad") / "bad.npz", **arrays)
    rc, _, err = run_cli(capsys, "data", "info", path)
    assert_refused(rc, err, "bad.npz", *words)


@HYP
@given(n=st.integers(1, 30), scale=st.floats(1e-3, 50.0), dtype=st.sampled_from([np.float16, np.float32, np.float64]))
def test_valid_sets_load(n, scale, dtype, tmp_path_factory, capsys):
    path = write_npz(tmp_path_factory.mktemp("ok") / "ok.npz", spikes=waveforms(n, scale=scale).astype(dtype),
                     times=np.arange(n) * 100, channels=np.zeros(n, np.int32))
    rc, out, _ = run_cli(capsys, "data", "info", path)
    assert rc == 0 and f"{n} spikes" in out


BAD_FOR_VERBS = {
    "empty": ({"spikes": np.zeros((0, 4, 64), np.float32)}, "no spikes"),
    "short-times": ({"spikes": waveforms(200), "times": np.arange(50)}, "'times' must have shape (200,)"),
    "string-channels": ({"spikes": waveforms(20), "channels": np.array(["a"] * 20)}, "'channels' must be integers"),
    "nan": ({"spikes": _poke(waveforms(20), 3, 0, 5, np.nan)}, "NaN"),
}


@pytest.mark.parametrize("name", sorted(BAD_FOR_VERBS))
@pytest.mark.parametrize("verb", ["data-info", "compress", "compare", "eval", "train"])
def test_every_verb_refuses_a_bad_set_before_writing(tmp_path, capsys, verb, name):
    arrays, words = BAD_FOR_VERBS[name]
    data = write_npz(tmp_path / "bad.npz", **arrays)
    out = tmp_path / "out"
    argv = {"data-info": ["data", "info", data],
            "compress": ["compress", data, f"{out}.hwc", "--checkpoint", FLOAT_CKPT],
            "compare": ["compare", "--data", data, "--float", FLOAT_CKPT, "--qat", QAT_CKPT, "--json", f"{out}.json"],
            "eval": ["eval", "--data", data, "--json", f"{out}.json"],
            "train": ["train", "--config", "tiny", "--data", data, "--val", data, "--out", f"{out}.pt"]}[verb]
    before = snapshot(tmp_path)
    rc, _, err = run_cli(capsys, *argv)
    assert_refused(rc, err, "bad.npz", words)
    assert snapshot(tmp_path) == before


def test_values_far_beyond_any_adc_range_warn_with_a_count(tmp_path, capsys):
    x = waveforms(30)
    x[[2, 7, 11], 1, 40] = 1e9  # uV: a set in the wrong units
    data = write_npz(tmp_path / "far.npz", spikes=x)
    rc, _, err = run_cli(capsys, "compress", data, tmp_path / "o.hwc", "--checkpoint", FLOAT_CKPT)
    assert rc == 0 and (tmp_path / "o.hwc").is_file()
    warn = [line for line in err.splitlines() if line.startswith("hwcae: warning:")]
    assert len(warn) == 1 and "3 of 30 spikes" in warn[0] and "far.npz" in warn[0]
    rc, out, err = run_cli(capsys, "data", "info", data)
    assert rc == 0 and "30 spikes" in out and "3 of 30 spikes" in err
    rc, _, err = run_cli(capsys, "compress", write_npz(tmp_path / "ok.npz", spikes=waveforms(30)), tmp_path / "p.hwc",
                         "--checkpoint", FLOAT_CKPT)
    assert rc == 0 and "warning" not in err


def test_misaligned_set_is_realigned_or_warned(tmp_path, capsys):
    data = write_npz(tmp_path / "late.npz", spikes=waveforms(30, peak=34))
    rc, _, err = run_cli(capsys, "compress", data, tmp_path / "a.hwc", "--checkpoint", FLOAT_CKPT)
    assert rc == 0 and "hwcae: note:" in err and "realigned each spike to sample 24" in err
    rc, _, err = run_cli(capsys, "compress", data, tmp_path / "b.hwc", "--checkpoint", FLOAT_CKPT, "--no-align")
    warn = [line for line in err.splitlines() if line.startswith("hwcae: warning:")]
    assert rc == 0 and len(warn) == 1 and "troughs at sample 34" in warn[0] and "kept as they are" in warn[0]
