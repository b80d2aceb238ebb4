"""``hwcae.decompress`` (the API) refuses a file that lost spikes as ``hwcae decompress`` does: one
HwcaeError line naming the file and the lost count, unless ``partial=True`` (the CLI's --partial),
which returns the spikes that decode with ``.complete`` False. It used to return partial data
silently, leaving the caller to check ``d.complete``."""
from __future__ import annotations

import numpy as np
import pytest

import hwcae
from hwcae.errors import HwcaeError
from tests.robustness.conftest import waveforms

N = 700  # three chunks: 256 + 256 + 188 spikes


@pytest.fixture(scope="module")
def hwc(tiny_checkpoint, tmp_path_factory):
    """(checkpoint, a valid file's bytes, its spikes' times, symbols)."""
    model = hwcae.load_model(tiny_checkpoint)
    spikes, times = waveforms(N, seed=3), np.arange(N) * 97
    path = tmp_path_factory.mktemp("api") / "s.hwc"
    hwcae.compress(model, spikes, path, times=times)
    return tiny_checkpoint, path.read_bytes(), times, model.encode(spikes)


def test_a_whole_file_decodes_as_before(hwc, tmp_path):
    ckpt, data, times, symbols = hwc
    (tmp_path / "x.hwc").write_bytes(data)
    rec, d = hwcae.decompress(ckpt, tmp_path / "x.hwc")
    assert d.complete and len(rec) == N and np.array_equal(d.times, times) and np.array_equal(d.indices, symbols)


@pytest.mark.parametrize("cut", [60, 2000, "header"])
def test_a_file_that_lost_spikes_raises_unless_partial(cut, hwc, tmp_path):
    ckpt, data, times, symbols = hwc
    model = hwcae.load_model(ckpt)
    short = data[:len(data) - cut] if cut != "header" else data[:_header_bytes(model, data)]
    (tmp_path / "x.hwc").write_bytes(short)
    rec, d = hwcae.decompress(ckpt, tmp_path / "x.hwc", partial=True)
    assert not d.complete and d.spikes_lost > 0 and len(rec) == N - d.spikes_lost
    assert np.array_equal(d.times, times[np.isin(times, d.times)]) and np.array_equal(d.indices, symbols[np.isin(times, d.times)])
    with pytest.raises(HwcaeError) as exc:
        hwcae.decompress(model, tmp_path / "x.hwc")
    line = str(exc.value)
    assert "\n" not in line and line.startswith(f"{tmp_path / 'x.hwc'}: {d.spikes_lost} of {N} spikes lost")
    assert f"partial=True returns the {N - d.spikes_lost} that decode" in line


def _header_bytes(model, data: bytes) -> int:
    """The shortest prefix of ``data`` that still reads as a header (no chunk)."""
    for n in range(8, len(data)):
        try:
            d = model.unpack(data[:n])
        except HwcaeError:
            continue
        return n if len(d.times) == 0 else 0
    raise AssertionError("no header")


def test_a_bad_header_names_the_file(hwc, tmp_path):
    ckpt, data, _, _ = hwc
    (tmp_path / "x.hwc").write_bytes(b"NOPE" + data[4:])
    with pytest.raises(HwcaeError, match=f"^{tmp_path / 'x.hwc'}: "):
        hwcae.decompress(ckpt, tmp_path / "x.hwc")
