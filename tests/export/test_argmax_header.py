"""The hand-written C++ of the codeword search: warning-free, and the same tie rule as torch."""
import shutil
import subprocess

import numpy as np
import pytest

from hwcae.export.argmax_layer import HEADER

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")


def test_vq_argmax_header_compiles_cleanly_and_breaks_ties_low(tmp_path):
    rng = np.random.default_rng(0)
    scores = rng.integers(-3, 3, size=(5, 7))  # many ties
    main = tmp_path / "main.cpp"
    vals = ", ".join(str(v) for v in scores.reshape(-1))
    main.write_text(f"""#include <cstdio>
#include "nnet_vq_argmax.h"
struct cfg : nnet::vq_argmax_config {{ static const unsigned n_pos = 5; static const unsigned n_code = 7; }};
int main() {{
    int s[35] = {{{vals}}};
    unsigned idx[5];
    nnet::vq_argmax<int, unsigned, cfg>(s, idx);
    for (unsigned i = 0; i < 5; i++) std::printf("%u\\n", idx[i]);
    return 0;
}}
""")
    exe = tmp_path / "a.out"
    r = subprocess.run(["g++", "-std=c++14", "-Wall", "-Wextra", "-Werror", "-I", str(HEADER.parent), str(main),
                        "-o", str(exe)], capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()
    assert [int(v) for v in out] == np.argmax(scores, axis=1).tolist()  # numpy/torch: first maximum
