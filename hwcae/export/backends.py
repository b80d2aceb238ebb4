"""The HLS backends, registered by name as hls4ml registers its own: name -> project settings
(``hls/<name>.yaml``, validated), the hls4ml backend, the extra convert arguments and the vendor
tool that synthesises the project. The CLI's choices, the pipeline's defaults and verification all
read :data:`BACKENDS`; adding one (say oneAPI) is one entry here plus its YAML and, if hls4ml's
backend needs it, the codeword-search template in :mod:`hwcae.export.argmax_layer`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pydantic

from hwcae.config import Strict, load_yaml, resolve
from hwcae.errors import HwcaeError
from hwcae.operating_point import load_operating_point

HLS_DIR = Path(__file__).resolve().parents[2] / "hls"


class HLSConfig(Strict):
    """One project's settings (``hls/*.yaml``): backend, FPGA or ASIC flow, reuse. The part, the ASIC
    library and the clock come from the one operating point (``hls/operating_point.yaml``)."""

    backend: Literal["Vitis", "Catapult"]
    tech: Literal["asic", "fpga"] = "fpga"
    reuse_factor: pydantic.PositiveInt = 1
    io_type: Literal["io_parallel"] = "io_parallel"
    strategy: Literal["Latency", "Resource"] = "Latency"

    @property
    def folder(self) -> str:
        return self.backend.lower()

    @property
    def clock_period_ns(self) -> float:
        return load_operating_point().clock_period_ns

    @property
    def target(self) -> str:
        """Part or ASIC library, in words."""
        op = load_operating_point()
        return f"FPGA part {op.fpga_part}" if self.tech == "fpga" else f"ASIC library {op.catapult_library} ({op.node})"


@dataclass(frozen=True)
class Backend:
    name: str  # the CLI's name and the project's folder under hls/build/<design>/
    hls4ml_backend: str
    tool: str  # the synthesis tool that must be on PATH for --synth
    target: str  # what the project is for, in words
    convert_args: tuple[str, ...] = ()  # HLSConfig fields passed to hls4ml's convert as they are

    def config(self, path: str | None = None) -> HLSConfig:
        """The validated settings: ``hls/<name>.yaml`` or another YAML of the same schema."""
        cfg = load_yaml(HLSConfig, resolve(path or self.name, HLS_DIR))
        if cfg.backend != self.hls4ml_backend:
            raise HwcaeError(f"{path or self.name}: backend {cfg.backend}, expected {self.hls4ml_backend}")
        return cfg

    def convert_kwargs(self, cfg: HLSConfig) -> dict:
        op = load_operating_point()
        kwargs = {"backend": self.hls4ml_backend, "io_type": cfg.io_type, "clock_period": op.clock_period_ns}
        if "part" in self.convert_args:
            kwargs["part"] = op.fpga_part
        if "tech" in self.convert_args:
            kwargs["tech"] = cfg.tech
            if cfg.tech == "asic":
                kwargs["asiclibs"] = op.catapult_library
        return kwargs


BACKENDS: dict[str, Backend] = {
    "vitis": Backend("vitis", "Vitis", "vitis_hls", "FPGA (AMD Vitis HLS)", ("part",)),
    "catapult": Backend("catapult", "Catapult", "catapult", "ASIC (Siemens Catapult HLS)", ("tech",)),
}


def get_backend(name: str) -> Backend:
    try:
        return BACKENDS[name]
    except KeyError:
        raise HwcaeError(f"unknown HLS backend {name!r}; choose from {', '.join(BACKENDS)}") from None


def load_hls_config(name_or_path: str) -> HLSConfig:
    """Settings of a registered backend by name, or any HLS settings YAML by path."""
    if name_or_path in BACKENDS:
        return BACKENDS[name_or_path].config()
    return load_yaml(HLSConfig, resolve(name_or_path, HLS_DIR))
