"""YAML configs are strict: no coercion (``weight_bits: "8"``), no repeated keys, UTF-8 only, finite
numbers, bounded sizes. Generated bad values go through ``hwcae qat --design`` and ``hwcae train
--config`` (both refuse before reading any data) as one line; every shipped YAML still loads."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.robustness.conftest import ROOT, assert_refused, run_cli

HYP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
DESIGN = (ROOT / "quantization/w8a8.yaml").read_text()
ARCH = yaml.safe_load((ROOT / "hwcae/model/arch/tiny-dense.yaml").read_text())


def arch_doc(section: str, **changes) -> str:
    """The tiny-dense architecture with ``changes`` in ``section`` ("" = top level), as YAML text."""
    doc = {k: dict(v) if isinstance(v, dict) else v for k, v in ARCH.items()}
    (doc if not section else doc.setdefault(section, {})).update(changes)
    return yaml.safe_dump(doc, sort_keys=False)


def qat_argv(path: Path) -> list:
    return ["qat", "--design", path, "--out", path.with_name("q.pt"), "--data", "missing.npz"]


def train_argv(path: Path) -> list:
    return ["train", "--config", path, "--out", path.with_name("m.pt"), "--data", "missing.npz"]


def refused_config(capsys, folder: Path, text: str | bytes, argv, *words) -> str:
    path = folder / "c.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    rc, _, err = run_cli(capsys, *argv(path))
    line = assert_refused(rc, err, "c.yaml", *words)
    assert not (folder / "q.pt").exists() and not (folder / "m.pt").exists()
    return line


def replace(doc: str, key: str, value: str) -> str:
    """``doc`` with the top-level line ``key: ...`` set to ``value``."""
    assert any(line.startswith(f"{key}:") for line in doc.splitlines())
    lines = [f"{key}: {value}" if line.startswith(f"{key}:") else line for line in doc.splitlines()]
    return "\n".join(lines) + "\n"


BAD_VALUES = st.one_of(
    st.integers(-50, 1).map(str), st.integers(25, 10**6).map(str),  # out of [2, 24]
    st.integers(2, 24).map(lambda i: f'"{i}"'), st.integers(2, 24).map(lambda i: f"'{i}'"),  # strings
    st.floats(2.1, 23.9).map(repr),  # not whole
    st.sampled_from(["8.0", "true", "false", ".nan", ".inf", "-.inf", "null", "[8]", "{bits: 8}", "eight", "8 bits"]),
)


@HYP
@given(key=st.sampled_from(["weight_bits", "activation_bits", "latent_bits", "codebook_bits"]), value=BAD_VALUES)
def test_design_word_widths_are_strict(key, value, tmp_path_factory, capsys):
    refused_config(capsys, tmp_path_factory.mktemp("d"), replace(DESIGN, key, value), qat_argv, key)


QAT_BAD = ["{epochs: -3}", "{epochs: .nan}", "{lr: .inf}", "{epochs: 6.5}", '{epochs: "6"}', "{epochs: 1000000}",
           "{lr: 0}", "{lr: -1e-3}", "{batch_size: 0}", "{momentum: 0.9}", "{epochs: true}", "[6]"]


@pytest.mark.parametrize("value", QAT_BAD)
def test_design_qat_settings(value, tmp_path, capsys):
    refused_config(capsys, tmp_path, replace(DESIGN, "qat", value), qat_argv, "qat")


ARCH_BAD = [  # (section, key, value): each one line naming the key
    ("vq", "codebook_size", 100_000_000), ("vq", "codebook_size", 1), ("vq", "codebook_size", "16"),
    ("vq", "decay", 1.0), ("", "input_scale_uv", float("inf")), ("", "name", 42),
    ("encoder", "latent_dim", "2"), ("encoder", "hidden", [16] * 100), ("encoder", "hidden", [16, 0]),
    ("encoder", "positions", 128), ("decoder", "linear_skip", "yes"), ("gain", "min_uv", float("nan")),
    ("gain", "bits", 3.0), ("train", "epochs", 0), ("train", "epochs", -3), ("train", "epochs", 100_000_000),
    ("train", "epochs", float("nan")), ("train", "lr", float("inf")), ("train", "lr", "1e-3"),
    ("train", "batch_size", 1e3), ("train", "augment_scale", [0.8, float("inf")]),
    ("train", "augment_stretch", [0.8, 100]), ("train", "patience", 1.5), ("train", "vq_warmup_epochs", -1),
    ("train", "decoder_refit_epochs", -1), ("train", "decoder_refit_lr", 0.0),
]


@pytest.mark.parametrize("section, key, value", ARCH_BAD, ids=lambda v: str(v)[:20])
def test_arch_values(section, key, value, tmp_path, capsys):
    word = key if key != "augment_stretch" else "augment_stretch must be"
    refused_config(capsys, tmp_path, arch_doc(section, **{key: value}), train_argv, word)


FILE_BAD = {
    "duplicate-key": (DESIGN + "weight_bits: 4\n", "duplicate key 'weight_bits'"),
    "nested-duplicate": (replace(DESIGN, "qat", "{epochs: 1, epochs: 2}"), "duplicate key 'epochs'"),
    "not-utf8": (DESIGN.encode() + b"# caf\xe9\n", "not UTF-8"),
    "utf16": (DESIGN.encode("utf-16"), "not UTF-8"),
    "binary": (bytes(range(256)) * 4, "not UTF-8"),
    "top-list": ("- 1\n- 2\n", "expected a mapping"),
    "int-key": (DESIGN + "1: one\n", "key 1 must be a string"),
    "date": (replace(DESIGN, "name", "2024-01-01"), "unsupported value"),
    "syntax": ("name: [unclosed\n", "not valid YAML"),
    "python-tag": (DESIGN + "x: !!python/object/apply:os.system ['true']\n", "not valid YAML"),
    "huge": (DESIGN + "#" * (1 << 20) + "\n", "too large"),
    "empty": ("", "expected a mapping"),
}


@pytest.mark.parametrize("name", sorted(FILE_BAD))
def test_bad_files(name, tmp_path, capsys):
    text, words = FILE_BAD[name]
    refused_config(capsys, tmp_path, text, qat_argv, words)


SHIPPED = sorted([*ROOT.glob("quantization/*.yaml"), *ROOT.glob("hwcae/model/arch/*.yaml"),
                  *ROOT.glob("hwcae/cost/tech/*.yaml"), *ROOT.glob("hls/*.yaml")])


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_yaml_still_loads(path):
    from hwcae.cost.tech import load_tech
    from hwcae.export.backends import load_hls_config
    from hwcae.model.config import load_arch
    from hwcae.quantize.design import load_design
    from hwcae.operating_point import load_operating_point
    from hwcae.rtl.flow import load_rtl_config

    hls = {"rtl.yaml": load_rtl_config, "operating_point.yaml": load_operating_point}.get(path.name, load_hls_config)
    loader = {"quantization": load_design, "arch": load_arch, "tech": load_tech, "hls": hls}[path.parent.name]
    assert loader(str(path)) is not None
    assert yaml.safe_load(path.read_text())  # and the strict loader agrees with PyYAML's on it


def test_scene_presets_and_suite_still_load():
    from hwcae.config import safe_load
    from hwcae.spikes.scene import presets, suite

    assert len(presets()) >= 5 and suite() is not None
    # the presets use anchors and merge keys (<<: *first): not duplicates
    text = (ROOT / "hwcae/spikes/presets.yaml").read_text()
    assert safe_load(text, "presets.yaml") == yaml.safe_load(text)


def test_scene_yaml_is_read_strictly():
    """presets.yaml and suite.yaml go through hwcae.config.safe_load (PyYAML's loader kept the last of
    a repeated key): every shipped scene still loads the same; a repeated key or a list is one line."""
    import re

    from hwcae.config import safe_load
    from hwcae.errors import HwcaeError
    from hwcae.spikes.scene import presets, scenes_from_text, suite

    text = (ROOT / "hwcae/spikes/presets.yaml").read_text()
    assert scenes_from_text(text, "presets.yaml") == presets() and len(presets()) >= 5
    suite_text = (ROOT / "hwcae/spikes/suite.yaml").read_text()
    assert safe_load(suite_text, "suite.yaml") == yaml.safe_load(suite_text) and len(suite().sets) >= 5
    doubled = re.sub(r"^tiny:.*$", "tiny:\n  duration_s: 2.0", text, count=1, flags=re.M)  # tiny sets it again below
    with pytest.raises(HwcaeError, match=r"^presets.yaml: not valid YAML \(line \d+\): duplicate key 'duration_s'$"):
        scenes_from_text(doubled, "presets.yaml")
    for bad, words in [("- tiny\n", "expected a mapping at the top level"), ("tiny: {duration_s: 1\n", "not valid YAML"),
                       ("tiny: {duration_s: '4'}\n", "presets.yaml: tiny: ")]:
        with pytest.raises(HwcaeError, match=re.escape(words)):
            scenes_from_text(bad, "presets.yaml")


@HYP
@given(value=st.one_of(st.integers(2, 24), st.sampled_from([2, 8, 24])))
def test_valid_widths_load(value, tmp_path_factory):
    from hwcae.quantize.design import load_design

    path = tmp_path_factory.mktemp("ok") / "d.yaml"
    path.write_text(replace(DESIGN, "weight_bits", str(value)))
    assert load_design(str(path)).weight_bits == value
