"""The study of ``hwcae explore``: Optuna's multi-objective search, resumable, run locally or on Dask.

Objectives: SNDR on the quality sets (max), uW per channel at the operating point (min), area of the
encoder instances the channels need (min). Constraints (``Trial.set_constraint``, read by the samplers; <= 0 is
feasible): bit-exact, total power within the power budget, area within the area budget.

The study lives in its storage (default a journal file ``<out>/study.journal``; ``sqlite:///...``
too), named after the space, so an interrupted study resumes by running the same command again
and several processes (joblib locally, Dask workers elsewhere) share it: each worker opens the
storage, asks for one trial, runs it and tells the result. ``--trials N`` is the study's total.

Determinism: with one job, trial n's sampler is seeded from (space seed, n) and every trial runs on
one thread, so a study stopped and resumed draws the same candidates as one run straight through;
a trial cut short is recorded as failed ("interrupted") and its candidate is queued again.
"""
from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

from hwcae.errors import HwcaeError

DIRECTIONS = ["maximize", "minimize", "minimize"]  # SNDR dB, uW per channel, area mm^2
INTERRUPTED = "interrupted"


def storage_spec(url: str | None, root: Path) -> str:
    return url or str(root / "study.journal")


def open_storage(spec: str):
    import optuna

    if "://" in spec:
        if not spec.startswith(("sqlite://", "postgresql://", "mysql://")):
            raise HwcaeError(f"--storage {spec}: use sqlite:///PATH (or a journal file path)")
        try:
            import sqlalchemy  # noqa: F401
        except ImportError:
            raise HwcaeError(f"--storage {spec}: a database storage needs sqlalchemy (pip install sqlalchemy); "
                             "the default journal file needs nothing") from None
        return optuna.storages.RDBStorage(spec)
    from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock, JournalStorage

    Path(spec).parent.mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(spec, lock_obj=JournalFileOpenLock(spec)))


CONSTRAINTS = ("bit_exact", "power_mw_over_budget", "area_mm2_over_budget")


def make_sampler(space, n: int):
    import optuna

    seed = (space.seed * 1_000_003 + n) % (2**31)
    if space.sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=space.population)
    return optuna.samplers.NSGAIISampler(population_size=space.population, seed=seed)  # constraints: set_constraint


def space_hash(space) -> str:
    return hashlib.sha256(space.model_dump_json().encode()).hexdigest()[:16]


def open_study(space, spec: str, n: int = 0, *, create: bool = False):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(spec)
    if create:
        study = optuna.create_study(study_name=space.name, storage=storage, directions=DIRECTIONS, load_if_exists=True,
                                    sampler=make_sampler(space, n))
        made = study.user_attrs.get("space_hash")
        if made is None:
            study.set_user_attr("space_hash", space_hash(space))
            study.set_user_attr("space", space.model_dump(mode="json"))
        elif made != space_hash(space):
            raise HwcaeError(f"study {space.name!r} in {spec} was run with another space; give a new --out or "
                             "--storage, or restore the space it was run with")
        return study
    return optuna.load_study(study_name=space.name, storage=storage, sampler=make_sampler(space, n))


def counted(study) -> int:
    """Trials that count towards --trials: all but the interrupted ones (which are queued again)."""
    from optuna.trial import TrialState

    return sum(1 for t in study.get_trials(deepcopy=False)
               if t.state in (TrialState.COMPLETE, TrialState.PRUNED)
               or (t.state == TrialState.FAIL and t.user_attrs.get("failure") != INTERRUPTED))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(study) -> int:
    """Trials left running by a process of this host that is gone: failed as interrupted, their
    candidates queued again. Returns how many."""
    from optuna.trial import TrialState

    n = 0
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        host, _, pid = str(t.user_attrs.get("worker", "")).rpartition(":")
        if host == socket.gethostname() and pid.isdigit() and not _alive(int(pid)):
            study._storage.set_trial_user_attr(t._trial_id, "failure", INTERRUPTED)
            study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
            study.enqueue_trial(t.params, user_attrs={"retry_of": t.number}, skip_if_exists=False)
            n += 1
    return n


def run_one(space_path: str, spec: str, root: str, parallel: bool = False) -> dict:
    """Ask for one trial, run it, tell the result; never raises for a failed candidate."""
    from hwcae.explore.space import load_space

    space = load_space(space_path)
    probe = open_study(space, spec)
    n = counted(probe)
    if parallel:  # workers asking at once would share n: spread their seeds
        n = n * 7919 + os.getpid()
    study = open_study(space, spec, n)
    trial = study.ask()
    trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
    try:
        return _evaluate(study, trial, space, Path(root))
    except BaseException:
        study.tell(trial, state=_fail(trial, INTERRUPTED))
        study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number}, skip_if_exists=False)
        raise


def _fail(trial, reason: str):
    from optuna.trial import TrialState

    trial.set_user_attr("failure", reason[:500])
    return TrialState.FAIL


def _evaluate(study, trial, space, root: Path) -> dict:
    from hwcae.explore.space import sample
    from hwcae.explore.trial import TrialFailed, run_trial

    name = f"{space.name}-{trial.number}"
    try:
        cand = sample(trial, space)
        trial.set_user_attr("candidate", cand)
        res = _earlier(study, trial) or run_trial(space, cand, root, name)
    except (TrialFailed, HwcaeError) as exc:
        study.tell(trial, state=_fail(trial, str(exc)))
        return {"number": trial.number, "state": "FAIL", "reason": str(exc)}
    except Exception as exc:  # noqa: BLE001 - any other problem is this candidate's, not the study's
        reason = f"crash: {type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        study.tell(trial, state=_fail(trial, reason))
        return {"number": trial.number, "state": "FAIL", "reason": reason}
    op = space.operating_point
    cons = [0.0 if res["bit_exact"] else 1.0, res["power_mw"] - op.power_budget_mw, res["area_mm2"] - op.area_budget_mm2]
    for k, v in res.items():
        trial.set_user_attr(k, v)
    trial.set_user_attr("constraints", cons)
    for k, v in zip(CONSTRAINTS, cons):
        trial.set_constraint(k, v)
    if not res["bit_exact"]:
        trial.set_user_attr("failure", f"not bit-exact: {res['exact_share']:.2%} of checked spikes agree")
    values = [res["sndr_db"], res["uw_per_channel"], res["area_mm2"]]
    study.tell(trial, values)
    return {"number": trial.number, "state": "COMPLETE", "values": values, "feasible": max(cons) <= 0}


def _earlier(study, trial) -> dict | None:
    """The measures of an earlier complete trial of the same candidate (samplers redraw one now and
    then): copied, not measured again; an earlier failure of it fails the same way."""
    from optuna.trial import TrialState

    from hwcae.explore.trial import TrialFailed

    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.FAIL)):
        if t.params != trial.params or t.number == trial.number or t.user_attrs.get("failure") == INTERRUPTED:
            continue
        if t.state == TrialState.FAIL:
            raise TrialFailed(f"{t.user_attrs.get('failure', 'failed')} (as trial {t.number})")
        return {**{k: v for k, v in t.user_attrs.items() if k not in ("constraints", "failure", "worker", "candidate")},
                    "same_as": t.number, "seconds": 0.0}
    return None


def run_study(space_path: str, trials: int, *, out: Path, storage: str | None = None, jobs: int = 1,
              scheduler: str = "local", dask_address: str | None = None, progress: bool = True) -> list[dict]:
    """Run the study until it holds ``trials`` counted trials; returns this run's trial summaries."""
    from hwcae.explore.space import load_space
    from hwcae.explore.trial import prepare_data

    space = load_space(space_path)
    out.mkdir(parents=True, exist_ok=True)
    spec = storage_spec(storage, out)
    study = open_study(space, spec, create=True)
    copy = out / "space.yaml"
    if not copy.is_file():
        copy.write_text(Path(space_path).read_text())
    recover(study)
    todo = max(0, trials - counted(study))
    if not todo:
        return []
    prepare_data(space, out)
    from tqdm import tqdm

    bar = tqdm(total=todo, desc=f"explore {space.name}", unit="trial", disable=not progress)
    args = (str(space_path), spec, str(out))
    results = []
    try:
        for r in _schedule(args, todo, jobs, scheduler, dask_address):
            results.append(r)
            bar.update(1)
            bar.set_postfix_str(f"#{r['number']} " + (f"{r['values'][0]:.2f} dB {r['values'][1]:.2f} uW"
                                                     if r["state"] == "COMPLETE" else r["reason"][:40]))
    finally:
        bar.close()
    return results


def _schedule(args: tuple, todo: int, jobs: int, scheduler: str, address: str | None):
    if scheduler == "dask":
        from distributed import Client, as_completed

        if not address:
            raise HwcaeError("--scheduler dask needs --dask-address tcp://HOST:PORT (a running Dask scheduler)")
        try:
            client = Client(address, timeout=30)
        except OSError as exc:
            raise HwcaeError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        with client:
            futures = [client.submit(run_one, *args, True, pure=False, key=f"explore-trial-{i}-{os.getpid()}")
                       for i in range(todo)]
            for fut in as_completed(futures):
                yield fut.result()
        return
    if jobs <= 1:
        for _ in range(todo):
            yield run_one(*args)
        return
    from joblib import Parallel, delayed

    yield from Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered")(
        delayed(run_one)(*args, True) for _ in range(todo))
