import json

from hwcae.fileio import json_text


def test_json_text_is_strict_json():
    text = json_text({"sndr": float("nan"), "rows": [1.5, float("inf"), -float("inf")], "n": 3})
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c))) == \
        {"sndr": None, "rows": [1.5, None, None], "n": 3}
