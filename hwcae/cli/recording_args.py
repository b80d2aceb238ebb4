"""Options shared by the verbs that read a raw recording (``data extract``, ``compress``, ``adapt``), each
checked by a type of :mod:`hwcae.validate` when parsed (one line naming the option, before any work)."""
from __future__ import annotations

from hwcae.spikes import RECORDING_FORMATS as FORMATS
from hwcae.validate import channel_count, duration_s, positive_float, raw_dtype, sampling_rate


def add_recording_args(p) -> None:
    p.add_argument("--format", default="auto", choices=("auto",) + FORMATS,
                   help="recording format (auto: folder with .meta -> spikeglx, with structure.oebin -> "
                        "openephys, other folder -> si, .nwb -> nwb, any other file -> raw binary)")
    p.add_argument("--fs", type=sampling_rate, help="sampling rate in Hz (raw binary; 1 kHz to 1 MHz)")
    p.add_argument("--channels", type=channel_count, help="channel count (raw binary; samples interleaved by channel)")
    p.add_argument("--dtype", type=raw_dtype, default="int16", help="sample type (raw binary): int8/16/32/64, "
                                                                    "uint8/16/32/64, float16/32/64; '>i2' for big endian")
    p.add_argument("--geometry", help="probe contact positions: probeinterface .json, or a text file of 'x y' "
                                      "rows in um, one per channel (raw binary has none: a line at 20 um)")
    p.add_argument("--gain-uv", type=positive_float, default=1.0, help="uV per raw binary unit")
    p.add_argument("--threshold", type=positive_float, default=5.0, help="detection threshold in robust noise SDs")
    p.add_argument("--chunk-s", type=duration_s, default=1.0, help="seconds of recording per processing chunk "
                                                              "(memory grows with chunk x channels)")
    p.add_argument("--no-filter", action="store_true", help="skip the 300-6000 Hz band-pass (already filtered)")


def plan_from_args(args, path):
    """Open ``path`` as the options say and plan its chunks (:class:`~hwcae.spikes.readers.ChunkPlan`)."""
    from hwcae.spikes.readers import guess_format, open_recording, plan_chunks

    fmt = guess_format(path) if args.format == "auto" else args.format
    rec = open_recording(path, fmt, fs_hz=args.fs, channels=args.channels, dtype=args.dtype, gain_uv=args.gain_uv,
                         geometry=args.geometry)
    return plan_chunks(rec, threshold=args.threshold, chunk_s=args.chunk_s,
                       bandpass=None if args.no_filter else (300.0, 6000.0))
