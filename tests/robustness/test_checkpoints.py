"""Checkpoints are checked key by key and against their architecture's shapes: a file that is not
what it claims is one line through the CLI (compress loads the checkpoint first, qat before
training), never a traceback; the content hash covers everything that affects decoding."""
from __future__ import annotations

import pytest
import torch

from hwcae.model.checkpoint import HASH_SCHEME, decoding_hash, load_checkpoint, save_checkpoint
from tests.robustness.conftest import ROOT, snapshot

FLOAT = ROOT / "models/float.pt"
OTHER = ROOT / "models/float-hw-tiny.pt"
QAT = ROOT / "models/qat-hw-tiny.pt"


def load(path):
    return torch.load(path, weights_only=True)


def rehash(p: dict) -> dict:
    """The file stays self-consistent (a new-scheme hash over the altered content): only the
    shape and schema checks can catch it."""
    p = dict(p, hash_scheme=HASH_SCHEME)
    p["content_hash"] = decoding_hash(p)
    return p


def drop(key):
    return lambda p: {k: v for k, v in p.items() if k != key}


def other_arch_weights(p):
    return rehash(dict(p, state_dict=load(OTHER)["state_dict"]))


def qat_with_w8a8_encoder(p):
    sd = {k: v for k, v in p["state_dict"].items() if not k.startswith("encoder.")}
    sd.update({k: v for k, v in load(ROOT / "models/qat-w8a8.pt")["state_dict"].items() if k.startswith("encoder.")})
    return rehash(dict(p, state_dict=sd))


def poke_weight(value):
    def f(p):
        sd = dict(p["state_dict"])
        sd["decoder.skip.weight"] = sd["decoder.skip.weight"].clone()
        sd["decoder.skip.weight"][0, 0] = value
        return dict(p, state_dict=sd)
    return f


CASES = {  # name: (source, mutation, words of the one-line error)
    **{f"missing-{k}": (FLOAT, drop(k), [f"lacks the key '{k}'"]) for k in
       ("kind", "arch", "design", "state_dict", "input_scale_uv", "index_counts", "index_transitions", "content_hash")},
    "unknown-key": (FLOAT, lambda p: dict(p, surprise=1), ["unknown checkpoint keys ['surprise']"]),
    "kind-int": (FLOAT, lambda p: dict(p, kind=3), ["'kind' must be str"]),
    "kind-other": (FLOAT, lambda p: dict(p, kind="int8"), ["kind must be"]),
    "arch-string": (FLOAT, lambda p: dict(p, arch="default"), ["'arch' must be dict"]),
    "state-list": (FLOAT, lambda p: dict(p, state_dict=[1, 2]), ["'state_dict' must be dict"]),
    "state-not-tensors": (FLOAT, lambda p: dict(p, state_dict={"a": 1.0}), ["must map names to tensors"]),
    "counts-list": (FLOAT, lambda p: dict(p, index_counts=[[1]]), ["'index_counts' must be Tensor"]),
    "scale-bool": (FLOAT, lambda p: dict(p, input_scale_uv=True), ["'input_scale_uv' must be"]),
    "float-with-design": (FLOAT, lambda p: dict(p, design={"name": "x"}), ["float checkpoint has no design"]),
    "qat-without-design": (QAT, lambda p: dict(p, design=None), ["qat checkpoint needs design"]),
    "altered-weights": (FLOAT, poke_weight(0.5), ["do not match their content hash"]),
    "nan-weight": (FLOAT, lambda p: rehash(poke_weight(float("nan"))(p)), ["holds NaN or Inf"]),
    "another-arch": (FLOAT, other_arch_weights, ["do not fit arch 'default'"]),
    "counts-shape": (FLOAT, lambda p: rehash(dict(p, index_counts=p["index_counts"][:, :64])),
                     ["index_counts must be integers of shape (17, 128)", "(17, 64)"]),
    "counts-float": (FLOAT, lambda p: rehash(dict(p, index_counts=p["index_counts"].float())), ["index_counts"]),
    "counts-negative": (FLOAT, lambda p: rehash(dict(p, index_counts=-p["index_counts"])), ["negative counts"]),
    "pairs-shape": (FLOAT, lambda p: rehash(dict(p, index_transitions=p["index_transitions"][:3])), ["index_transitions"]),
    "scale-mismatch": (FLOAT, lambda p: rehash(dict(p, input_scale_uv=128.0)), ["input_scale_uv 128.0 differs"]),
    "bad-arch-dict": (FLOAT, lambda p: rehash(dict(p, arch={**p["arch"], "vq": {"codebook_size": "128"}})),
                      ["arch", "vq.codebook_size"]),
    "qat-other-encoder": (QAT, qat_with_w8a8_encoder, ["do not fit arch 'hw-tiny'", "missing encoder.blocks.0"]),
    "qat-missing-scale": (QAT, lambda p: rehash(dict(p, state_dict={
        k: v for k, v in p["state_dict"].items() if "latent_q" not in k})), ["missing encoder.latent_q.act_quant"]),
    "qat-score-shape": (QAT, lambda p: rehash(dict(p, state_dict={
        **p["state_dict"], "encoder.score.weight": p["state_dict"]["encoder.score.weight"][:32]})),
        ["weight encoder.score.weight has shape (32, 16, 1)", "needs (64, 16, 1)"]),
    "qat-other-decoder": (QAT, lambda p: rehash(dict(p, state_dict={**p["state_dict"], **{
        k: v for k, v in load(ROOT / "models/qat-w8a8.pt")["state_dict"].items() if k.startswith("decoder.")}})),
        ["do not fit arch 'hw-tiny'"]),
    "new-scheme-altered-counts": (FLOAT, lambda p: dict(rehash(p), index_counts=p["index_counts"] + 1),
                                  ["weights, statistics or settings do not match"]),
    "new-scheme-altered-arch": (FLOAT, lambda p: dict(rehash(p), arch={**p["arch"], "description": "x"}),
                                ["weights, statistics or settings do not match"]),
    "unknown-scheme": (FLOAT, lambda p: dict(p, hash_scheme=7), ["unknown hash_scheme 7"]),
    "not-a-dict": (FLOAT, lambda p: [1, 2, 3], ["not an hwcae checkpoint"]),
    "version": (FLOAT, lambda p: dict(p, version=2), ["version 2 is not supported"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_checkpoint_is_one_line(name, tmp_path, refused, spikes_npz):
    source, mutate, words = CASES[name]
    bad = tmp_path / "bad.pt"
    torch.save(mutate(load(source)), bad)
    before = snapshot(tmp_path)
    refused(["compress", spikes_npz, tmp_path / "o.hwc", "--checkpoint", bad], "bad.pt", *words)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("name", ["another-arch", "missing-index_counts", "counts-shape"])
def test_qat_refuses_a_bad_float_checkpoint_before_training(name, tmp_path, refused, spikes_npz):
    source, mutate, words = CASES[name]
    bad = tmp_path / "bad.pt"
    torch.save(mutate(load(source)), bad)
    refused(["qat", "--design", "w8a8", "--from", bad, "--data", spikes_npz, "--val", spikes_npz,
             "--out", tmp_path / "q.pt"], *words)
    assert not (tmp_path / "q.pt").exists()


def test_truncated_checkpoint_is_one_line(tmp_path, refused, spikes_npz):
    cut = tmp_path / "cut.pt"
    cut.write_bytes(FLOAT.read_bytes()[:5000])
    refused(["compress", spikes_npz, tmp_path / "o.hwc", "--checkpoint", cut], "cut.pt", "not a readable checkpoint")


def test_new_checkpoints_hash_what_decodes_and_load_back(tmp_path):
    """save_checkpoint writes scheme 2 (the old files' weights-only hash is still accepted: the
    committed checkpoints load unchanged, see tests/test_committed_checkpoints.py)."""
    old = load_checkpoint(ROOT / "models/float-conv.pt")  # written before the scheme existed
    assert "hash_scheme" not in old
    p = {k: v for k, v in old.items() if k not in ("format", "version", "content_hash")}
    save_checkpoint(tmp_path / "new.pt", p)
    new = load_checkpoint(tmp_path / "new.pt")
    assert new["hash_scheme"] == HASH_SCHEME and new["content_hash"] == decoding_hash(new) != old["content_hash"]
    for key, change in [("index_counts", new["index_counts"] + 1), ("input_scale_uv", 512.0),
                        ("design", {"name": "w8a8"}), ("kind", "qat")]:
        assert decoding_hash(dict(new, **{key: change})) != new["content_hash"], key


@pytest.mark.parametrize("name", sorted(set(CASES) - {"not-a-dict"}))
def test_a_bad_payload_in_memory_is_refused_like_a_file(name):
    """load_qat of a dict (the API's load_model / compress with a payload, adapt, the evaluation's
    calibration) checks what a path gets checked for: marker, version, schema, content hash, shapes."""
    from hwcae.errors import HwcaeError
    from hwcae.quantize.qat import load_qat

    source, mutate, words = CASES[name]
    with pytest.raises(HwcaeError) as exc:
        load_qat(mutate(load(source)))
    line = str(exc.value)
    assert line.startswith("the QAT payload") and "\n" not in line
    assert all(w in line for w in words), (words, line)


def test_good_payloads_in_memory_still_load():
    import hwcae
    from hwcae.errors import HwcaeError
    from hwcae.model.checkpoint import sealed
    from hwcae.quantize.qat import load_qat

    p = load(QAT)
    assert load_qat(p)[3] is p and hwcae.load_model(p).design is not None
    unsaved = {k: v for k, v in p.items() if k not in ("format", "version", "content_hash")}  # as adapt returns it
    with pytest.raises(HwcaeError, match="the QAT payload is not an hwcae checkpoint"):
        load_qat(unsaved)
    assert load_qat(sealed(unsaved))[2].name == load_qat(p)[2].name
    with pytest.raises(HwcaeError, match="the QAT payload is a float checkpoint, expected qat"):
        load_qat(load(FLOAT))
    sd = dict(p["state_dict"])
    name = next(k for k in sd if k.startswith("decoder.") and k.endswith("weight"))
    sd[name] = sd[name] + 0.5
    with pytest.raises(HwcaeError, match="the QAT payload: .*do not match their content hash"):
        hwcae.load_model(dict(p, state_dict=sd))
