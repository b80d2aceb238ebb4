"""hwcae inspect: a checkpoint's card and a container's header and damage."""
import numpy as np

from hwcae.cli import main
from hwcae.metrics import counts_entropy_bits
from hwcae.model.checkpoint import load_checkpoint


def test_inspect_checkpoint(tiny_qat, capsys):
    assert main(["inspect", str(tiny_qat)]) == 0
    out = capsys.readouterr().out
    assert "qat checkpoint" in out and "design: tiny-w8a8" in out and "content hash" in out
    assert "activation ranges: val_sndr (radix points from the statistics'" in out  # w8a8's recipe
    info = next(line for line in out.splitlines() if "information per symbol" in line)
    h = counts_entropy_bits(np.asarray(load_checkpoint(tiny_qat)["index_counts"]))
    assert f"{h.sum():.1f} of the" in info and len(info.split(":")[1].split(";")[0].split()) == len(h)


def test_inspect_container_intact_and_damaged(tiny_qat, tiny_set, tmp_path, capsys):
    import hwcae

    path = tmp_path / "x.hwc"
    hwcae.compress(hwcae.load_model(tiny_qat), tiny_set.spikes[:200], path)
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{200:,} spikes" in out and "sampling rate unknown (not stored)" in out
    hwcae.compress(hwcae.load_model(tiny_qat), tiny_set.spikes[:20], tmp_path / "fs.hwc", fs_hz=24000)
    assert main(["inspect", str(tmp_path / "fs.hwc")]) == 0
    assert "sampling rate 24000 Hz" in capsys.readouterr().out
    assert main(["inspect", str(path), "--checkpoint", str(tiny_qat)]) == 0
    assert "decoded 200 of 200 spikes" in capsys.readouterr().out
    cut = tmp_path / "cut.hwc"
    cut.write_bytes(path.read_bytes()[:-40])  # the last chunk damaged
    assert main(["inspect", str(cut), "--checkpoint", str(tiny_qat)]) == 1
    out = capsys.readouterr().out
    assert "spikes lost 0" not in out and "decoded 200 of 200" not in out


def test_inspect_refuses_other_files(tmp_path, capsys):
    p = tmp_path / "x.txt"
    p.write_text("hello")
    assert main(["inspect", str(p)]) != 0
    assert "inspect takes a .pt checkpoint or a .hwc container" in capsys.readouterr().err
    bad = tmp_path / "x.hwc"
    bad.write_bytes(b"not a container")
    assert main(["inspect", str(bad)]) != 0
    assert "not an .hwc file" in capsys.readouterr().err
