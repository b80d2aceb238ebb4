import json

from hwcae.fileio import json_text


def test_json_text_is_strict_json():
    text = json_text({"sndr": float("nan"), "rows": [1.5, float("inf"), -float("inf")], "n": 3})
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c))) == \
        {"sndr": None, "rows": [1.5, None, None], "n": 3}


def test_numpy_values_become_plain_json():
    import json

    import numpy as np

    from hwcae.fileio import json_text

    out = json.loads(json_text({"a": np.float32(1.5), "b": np.array([1, 2]), "c": np.float64("nan"), "d": np.int64(3)}))
    assert out == {"a": 1.5, "b": [1, 2], "c": None, "d": 3}


def test_eval_json_is_strict_on_all_zero_spikes(tmp_path, capsys):
    """Every verb's --json goes through json_text: no bare NaN even where SNDR is undefined."""
    import numpy as np

    from hwcae.cli import main

    np.savez(tmp_path / "z.npz", spikes=np.zeros((40, 4, 64), np.float32))
    assert main(["eval", "--data", str(tmp_path / "z.npz"), "--json", str(tmp_path / "z.json")]) == 0
    text = (tmp_path / "z.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert "undefined (reference has zero power)" in capsys.readouterr().err
