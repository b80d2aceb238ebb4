"""hwcae explore: a multi-objective design-space search (Optuna) over architecture, bit widths and
hardware, scored on the external suite's validation sets (SNDR), power per channel and area at an
operating point; bit-exact and within the power and area budgets. The study is resumable (run the
same command again) and its trials run in joblib processes (--jobs) or on a Dask cluster. Writes the
Pareto front to --out (front.csv, front.md, front.png, front.json, trials.csv); --export ID writes a
front point as a design YAML that `make qat DESIGN=...` and `make hls DESIGN=...` take unchanged."""
from __future__ import annotations

from pathlib import Path

from hwcae.cli.data_args import add_force_arg
from hwcae.validate import bounded, positive_int


def add_parser(sub):
    p = sub.add_parser("explore", help="design-space search: the Pareto front of SNDR, uW/channel and area",
                       description=__doc__)
    p.add_argument("--space", help="search space YAML (e.g. explore/space.yaml); default: the copy in --out")
    p.add_argument("--trials", type=bounded(int, 0, 100000),
                   help="trials the study should hold in all (a resumed study runs only the missing ones); "
                        "0 or omitted: only write the outputs of the study as it is")
    p.add_argument("--jobs", type=bounded(int, 1, 256), default=1,
                   help="trials at once in local joblib processes (one core each; 1 = deterministic)")
    p.add_argument("--scheduler", choices=["local", "dask"], default="local",
                   help="local: joblib processes; dask: one trial per task on the Dask cluster at --dask-address")
    p.add_argument("--dask-address", help="Dask scheduler address (tcp://HOST:PORT) for --scheduler dask; its "
                   "workers must see --out (and --storage) at the same path")
    p.add_argument("--storage", help="Optuna storage shared by every worker: sqlite:///PATH or a journal file path "
                   "(default OUT/study.journal)")
    p.add_argument("--out", default="reports/explore", help="study folder: storage, trials, caches and the outputs")
    p.add_argument("--export", type=bounded(int, 0, 10**9), metavar="ID",
                   help="write trial ID as a design YAML (and its float model where hwcae qat needs it)")
    p.add_argument("--design-dir", default="quantization", help="where --export writes the design YAML")
    p.add_argument("--models-dir", default="models", help="where --export copies the float checkpoint it needs")
    p.add_argument("--no-committed", action="store_true",
                   help="do not score the committed designs (models/qat-<design>.pt) beside the front")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_force_arg(p)
    return p


def run(args) -> int:
    from hwcae.errors import HwcaeError
    from hwcae.explore.space import load_space
    from hwcae.explore.study import open_study, run_study, storage_spec

    out = Path(args.out)
    space_path = args.space or str(out / "space.yaml")
    if not Path(space_path).is_file():
        raise HwcaeError(f"no space: give --space (no {out / 'space.yaml'} from an earlier run)")
    space = load_space(space_path)
    if args.scheduler == "dask" and not args.dask_address:
        raise HwcaeError("--scheduler dask needs --dask-address tcp://HOST:PORT")
    if args.export is not None:
        from hwcae.explore.export import export_trial

        spec = storage_spec(args.storage, out)
        if not Path(spec).exists() and "://" not in spec:
            raise HwcaeError(f"no study at {spec}; run hwcae explore --space {space_path} --trials N first")
        written = export_trial(open_study(space, spec), args.export, design_dir=Path(args.design_dir),
                               models_dir=Path(args.models_dir), force=args.force)
        for w in written:
            print(f"wrote {w}")
        name = written[0].stem
        print(f"next: make qat DESIGN={name} && make hls DESIGN={name}" if args.design_dir == "quantization" else
              f"next: hwcae qat --design {written[0]} (--from the float checkpoint above if it is not the default)")
        return 0
    if args.trials:
        res = run_study(space_path, args.trials, out=out, storage=args.storage, jobs=args.jobs,
                        scheduler=args.scheduler, dask_address=args.dask_address, progress=not args.no_progress)
        failed = [r for r in res if r["state"] != "COMPLETE"]
        print(f"ran {len(res)} trials ({len(failed)} failed" + (f": {failed[0]['reason'][:80]}" if failed else "") + ")")
    spec = storage_spec(args.storage, out)
    if "://" not in spec and not Path(spec).exists():
        raise HwcaeError(f"no study at {spec}; give --trials N to run one")
    from hwcae.explore.front import COLUMNS, _md, write_outputs

    data = write_outputs(space, open_study(space, spec), out, committed=not args.no_committed)
    print(f"Pareto front of {space.name}: {len(data['front'])} of {len(data['trials'])} trials "
          f"(SNDR dB on {', '.join(space.data.quality)}; uW/channel and mm^2 at {space.operating_point.channels} channels)")
    print(_md(data["front"], COLUMNS))
    for p in data["committed"]:
        print(f"  {p['design']}: {p['sndr_db']:.2f} dB, {p['uw_per_channel']:.3g} uW/ch, {p['area_mm2']:.3g} mm^2 - "
              f"{p['placement']}")
    print(f"wrote {out / 'front.md'}, front.csv, front.png, front.json, trials.csv")
    return 0
