"""HLS project settings (``hls/*.yaml``), validated: backend, part or ASIC flow, clock, reuse."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import pydantic

from hwcae.config import Strict, load_yaml, resolve

HLS_DIR = Path(__file__).resolve().parents[2] / "hls"


class HLSConfig(Strict):
    backend: Literal["Vitis", "Catapult"]
    part: str | None = None
    tech: Literal["asic", "fpga"] = "fpga"
    clock_period_ns: pydantic.PositiveFloat = 5.0
    reuse_factor: pydantic.PositiveInt = 1
    io_type: Literal["io_parallel"] = "io_parallel"
    strategy: Literal["Latency", "Resource"] = "Latency"

    @property
    def folder(self) -> str:
        return self.backend.lower()


def load_hls_config(name_or_path: str) -> HLSConfig:
    return load_yaml(HLSConfig, resolve(name_or_path, HLS_DIR))
