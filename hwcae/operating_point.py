"""The one operating point (``hls/operating_point.yaml``) every design is built and costed at.

The Vitis project takes its FPGA part and clock from it, the Catapult project its ASIC library and
clock, ``make rtl`` its clock and firing rate, ``hwcae cost`` its node, clock, channel count, rate,
radio energy and budgets. One file, so the three never disagree; :func:`describe` is the line every
report prints.
"""
from __future__ import annotations

from pathlib import Path

import pydantic

from hwcae.config import Strict, load_yaml

OPERATING_POINT = Path(__file__).resolve().parents[1] / "hls" / "operating_point.yaml"


class OperatingPoint(Strict):
    node: str = pydantic.Field("45nm", pattern=r"^[0-9]+nm$")  # hwcae/cost/tech/<node>.yaml
    catapult_library: str = pydantic.Field("nangate-45nm", min_length=1, max_length=200)
    fpga_part: str = pydantic.Field("xcu250-figd2104-2L-e", min_length=1, max_length=200)
    clock_mhz: pydantic.confloat(gt=0, le=10000) = 20.0
    channels: pydantic.conint(ge=1, le=10**7) = 1024
    rate_hz: pydantic.confloat(gt=0, le=1e4) = 50.0  # detected spikes per second per channel
    sample_rate_hz: pydantic.confloat(gt=0, le=1e7) = 30000.0  # ADC rate of the raw stream
    radio_pj_per_bit: pydantic.confloat(ge=0, le=1e6) = 130.0
    power_budget_mw: pydantic.confloat(gt=0, le=1e6) = 10.0
    area_budget_mm2: pydantic.confloat(gt=0, le=1e6) = 4.0
    link_mbps: pydantic.confloat(gt=0, le=1e6) = 10.0

    @property
    def clock_hz(self) -> float:
        return self.clock_mhz * 1e6

    @property
    def clock_period_ns(self) -> float:
        return 1e3 / self.clock_mhz

    def describe(self) -> str:
        """One line: what every figure of a report assumes."""
        return (f"operating point (hls/operating_point.yaml): {self.node} ASIC (Catapult {self.catapult_library}), "
                f"FPGA {self.fpga_part}, clock {self.clock_mhz:g} MHz; {self.channels:,} channels at "
                f"{self.rate_hz:g} spikes/s, ADC {self.sample_rate_hz / 1e3:g} kHz")


def load_operating_point(path: str | Path = OPERATING_POINT) -> OperatingPoint:
    return load_yaml(OperatingPoint, path)
