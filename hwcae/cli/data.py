"""hwcae data: make spike sets (synthetic ground truth, or extracted from your recordings)."""
from __future__ import annotations

from hwcae.cli.recording_args import add_recording_args
from hwcae.validate import positive_float, sampling_rate


def add_parser(sub):
    p = sub.add_parser("data", help="make spike sets: synth | extract | mat | info", description=__doc__)
    dsub = p.add_subparsers(dest="data_verb", metavar="ACTION", required=True)

    s = dsub.add_parser("synth", help="built-in synthetic ground truth (generated recordings, spikes cut by detection)")
    s.add_argument("--out", required=True, help="spike set to write (.npz)")
    s.add_argument("--preset", default="test", help="train | val | test | unseen | tiny (hwcae/spikes/presets.yaml), "
                                                    "or suite:<set> / suite-val:<set> (hwcae/spikes/suite.yaml)")
    s.add_argument("--force", action="store_true", help="overwrite OUT")

    e = dsub.add_parser("extract", help="detect, align and cut spikes from a recording SpikeInterface reads")
    e.add_argument("recording", help="recording file or folder")
    e.add_argument("--out", required=True)
    add_recording_args(e)
    e.add_argument("--force", action="store_true")

    m = dsub.add_parser("mat", help="Wave_Clus / Leicester-style .mat (data, spike_times, spike_class)")
    m.add_argument("mat")
    m.add_argument("--out", required=True)
    m.add_argument("--uv-per-unit", type=positive_float, default=1.0, help="scale of 'data' in uV")
    m.add_argument("--fs", type=sampling_rate, help="sampling rate in Hz, 1 kHz to 1 MHz (default: from samplingInterval, "
                                                    "else 24 kHz)")
    m.add_argument("--force", action="store_true")

    i = dsub.add_parser("info", help="summarise a spike set")
    i.add_argument("path")
    return p


def run(args) -> int:
    import numpy as np

    from hwcae.errors import HwcaeError
    from hwcae.spikes.spikeset import load_spikes, save_spikes

    if args.data_verb in ("synth", "extract", "mat"):
        from hwcae.fileio import check_outputs

        check_outputs([args.out], force=args.force, inputs=[getattr(args, "recording", None), getattr(args, "mat", None)])
    if args.data_verb == "synth":
        from hwcae.api import generate_spikes

        s = generate_spikes(args.preset, progress=True)
    elif args.data_verb == "extract":
        from hwcae.api import extract_spikes
        from hwcae.cli.recording_args import plan_from_args

        s = extract_spikes(plan_from_args(args, args.recording), progress=True)
        if len(s) == 0:
            raise HwcaeError(f"no spikes detected in {args.recording} at threshold {args.threshold}")
    elif args.data_verb == "mat":
        from hwcae.api import read_mat

        s = read_mat(args.mat, uv_per_unit=args.uv_per_unit, fs_hz=args.fs)
    else:
        import sys

        from hwcae.spikes.align import measure
        from hwcae.spikes.spikeset import FAR_UV, far_spikes

        s = load_spikes(args.path)
        if far_spikes(s):
            print(f"hwcae: warning: {args.path}: {far_spikes(s)} of {len(s)} spikes have samples beyond +-{FAR_UV:,.0f} uV, "
                  "far outside any recorder's range (are the values in microvolts?)", file=sys.stderr)
        fs = "-" if s.fs is None else np.unique(np.atleast_1d(s.fs)).tolist()
        units = "-" if s.labels is None else len(np.unique(s.labels))
        a = measure(s.spikes)
        print(f"{args.path}: {len(s)} spikes, fs {fs} Hz, units {units}, clean twin: {s.clean is not None}, "
              f"peak {s.spikes[:, 0].min():.1f} uV, {a.describe()}{'' if a.aligned else ': realigned when read'}")
        return 0
    save_spikes(s, args.out, force=True)
    print(f"wrote {args.out}: {len(s)} spikes")
    return 0
