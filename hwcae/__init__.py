"""hwcae: a hardware-oriented fixed-point toolkit for the deep compressive autoencoder
(Wu et al., J. Neural Eng. 2018) that compresses neural action potentials.

Python use: the functions of :mod:`hwcae.api` are available here (``hwcae.load_spikes``,
``hwcae.load_model``, ``hwcae.encode``, ``hwcae.decode``, ``hwcae.verify_design``,
``hwcae.estimate_cost``, ``hwcae.compress``, ...); they are imported on first use, so
``import hwcae`` stays light and the NumPy-only parts never pull in torch.

Layers (the import rule, checked by ``tests/test_layers.py``): a module imports only from its own
package and from packages in lower layers, never from a higher layer or from another package of
its own layer. Low to high (see :data:`LAYERS`):

    core        hwcae (this file: constants), errors, then fileio, config, metrics, validate
    operating_point  the one operating point (hls/operating_point.yaml)
    fixedpoint  the typed integer model of the on-chip encoder, its NumPy reference, save/load
    codec       symbol statistics, entropy coders, the .hwc container (NumPy only)
    spikes, baselines
    model       the float CAE (torch)
    quantize    the Brevitas twin and ``extract`` -> fixedpoint
    rtl         the Verilog datapath, its Verilator simulation and Yosys synthesis (no torch)
    export, cost, adapt (calibration on the user's spikes)
    verify, stream
    evaluate
    explore     the design-space search (Optuna; local processes or Dask)
    api
    cli
"""

__version__ = "0.1.0"

#: Samples per spike snippet and channels per snippet: the model's input word.
N_CHANNELS = 4
N_SAMPLES = 64
#: Bits of one raw sample as the recorder digitises it (the compression ratio's numerator).
RAW_BITS_PER_SAMPLE = 16
RAW_BITS_PER_SPIKE = N_CHANNELS * N_SAMPLES * RAW_BITS_PER_SAMPLE  # 4096 bits
#: Sample at which an aligned spike's negative peak sits (on its best channel, row 0).
PEAK_SAMPLE = 24

#: The package layers, low to high (modules of the top-level package by name, sub-packages by name).
LAYERS = (
    ("hwcae",),  # this file: constants (its lazy API exports are the one exception to the rule)
    ("errors",),
    ("fileio", "config", "metrics", "validate"),
    ("operating_point",),  # hls/operating_point.yaml: read by export, rtl, cost
    ("fixedpoint",),
    ("codec",),
    ("spikes", "baselines"),
    ("model",),
    ("quantize",),
    ("rtl",),
    ("export", "cost", "adapt"),
    ("verify", "stream"),
    ("evaluate",),
    ("explore",),
    ("api",),
    ("cli",),
    ("__main__",),
)

__all__ = ["load_spikes", "generate_spikes", "load_model", "encode", "decode", "train", "qat", "calibrate",
           "fixed_point_model", "build_design", "build_rtl", "verify_design", "estimate_cost", "compress", "decompress",
           "compress_recording", "evaluate_set", "evaluate_suite", "evaluate_calibration", "compare_designs", "extract_spikes", "read_mat", "write_report"]


def __getattr__(name: str):
    if name in __all__:
        from hwcae import api

        return getattr(api, name)  # (names differ from the sub-packages', which would shadow them once imported)
    raise AttributeError(f"module 'hwcae' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
