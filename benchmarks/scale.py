"""Province scale: `python -m benchmarks.scale [--quick] [--firms N]` (docs/scale.md).

The whole data pipeline on one generated district — snapshot, features of every subject, training,
the refresh of every score — with the single-machine pandas path (where it fits) and the Dask path on
a LocalCluster of 1 and of 2 workers. Each stage runs as a child process; its wall time and its peak
memory (resident memory of the child and every process it started, Dask's workers included, sampled
every 0.2 s) are reported. The last line printed is one JSON object, with each Dask figure's ratio to
the pandas figure of the same run.

`--quick` (~20k firms): the district is ingested whole into a SQLite database, the snapshot is
`flask data snapshot`, and the pandas refresh is `flask scores refresh` from the database. The full
run (1M firms) does not ingest 100M records (hours; `benchmarks.ingest` measures ingestion): only the
registrations enter the database (the subjects whose scores are written), and the snapshot is
written from the exports themselves (`snapshot.write_export_snapshot`, read in chunks); pandas runs
where one process holds the district (features and training up to `--pandas-max` firms).
Districts are generated once and cached under `--cache` (default instance/bench-cache, git-ignored);
the run's database, snapshot and model versions go to a temporary folder beside them, or to `--work
DIR`, kept (a later run with the same `--work` reuses its snapshot).

A long run is made to survive a stop: `--workers 2,1` chooses the Dask worker counts and their order,
`--stages` the stages' order; each stage's figures are written to `--results FILE` as soon as the stage
ends; `--stop-at HH:MM` (UTC) stops the stage running at that time (its whole process tree, Dask's
workers included) and ends the run with the stages measured. A stage's own output (the refresh's
progress, partition by partition) goes to a log file in the run's folder.
"""
import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import psutil

SEED, MONTHS = 42, 36
FIRMS, QUICK_FIRMS = 1_000_000, 20_000
CACHE = Path(__file__).resolve().parents[1] / "instance" / "bench-cache"
PANDAS_MAX = 200_000  # above this one pandas process would not hold the district's records
QUICK_PARTITION = 5_000  # several partitions even on the quick district, so that two workers share them
SUBJECTS_PER_PARTITION = 20_000
REGION = "610203"
SNAPSHOT_PROCESSES = min(2, os.cpu_count() or 1)  # export files written at once (the snapshot of the exports)


def tree_rss(process):
    """Resident bytes of a process and all its descendants (0 for those already gone)."""
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


class Stopped(Exception):
    """A stage stopped at the run's deadline: its figures so far."""

    def __init__(self, seconds, peak_mb, log_tail):
        super().__init__(f"stopped after {seconds} s")
        self.seconds, self.peak_mb, self.log_tail = seconds, peak_mb, log_tail


def stop_tree(process, grace=10):
    """End a process and every process it started (Dask's nannies and workers): TERM, then KILL."""
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for member in members:
        try:
            member.terminate()
        except psutil.NoSuchProcess:
            continue
    _, alive = psutil.wait_procs(members, timeout=grace)
    for member in alive:
        try:
            member.kill()
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(alive, timeout=grace)


def run_measured(command, env=None, log=None, deadline=None):
    """Run a command; (stdout, wall seconds, peak MB of its whole process tree).

    Its stderr goes to the file `log` when given (else a temporary file). At `deadline` (a time.time()
    value) the command and all it started are stopped and Stopped is raised with the figures so far.
    """
    with tempfile.TemporaryFile("w+") as out, _log_file(log) as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, text=True, env={**os.environ, **(env or {})})
        peak, watched = [0], psutil.Process(child.pid)

        def sample():
            while child.poll() is None:
                try:
                    peak[0] = max(peak[0], tree_rss(watched))
                except psutil.NoSuchProcess:
                    return
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        stopped = False
        while True:
            try:
                child.wait(timeout=1)
                break
            except subprocess.TimeoutExpired:
                if deadline is not None and time.time() >= deadline:
                    stop_tree(watched)
                    stopped = True
        sampler.join()
        seconds = time.perf_counter() - started
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if stopped:
        raise Stopped(round(seconds, 1), round(peak[0] / 2**20, 1), stderr[-2000:])
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed ({child.returncode}):\n{stderr[-3000:]}")
    return stdout, round(seconds, 1), round(peak[0] / 2**20, 1)


@contextmanager
def _log_file(path):
    if path is None:
        with tempfile.TemporaryFile("w+") as file:
            yield file
        return
    with open(path, "w+", encoding="utf-8") as file:
        yield file


def last_json(stdout):
    """The JSON object a command prints as its last line."""
    return json.loads(stdout.strip().splitlines()[-1])


def district(firms, cache):
    """The cached district of `firms` firms, generated once (its summary file marks it complete)."""
    folder = cache / f"district-{firms}-m{MONTHS}-s{SEED}"
    summary = folder.with_name(folder.name + ".json")
    if not summary.exists():
        print(f"generating {firms:,} firms into {folder} …", file=sys.stderr, flush=True)
        stdout, _, _ = run_measured([sys.executable, "-m", "training.synth", "--firms", str(firms), "--seed",
                                     str(SEED), "--months", str(MONTHS), "--out", str(folder)])
        summary.write_text(stdout.strip().splitlines()[-1], encoding="utf-8")
    return folder


def flask(database, *args):
    """A `flask --app app …` command line on the database file."""
    return [sys.executable, "-m", "flask", "--app", "app", *args], {"DATABASE_URL": f"sqlite:///{database}"}


def measured(label, command, env=None, run=None):
    """Run a stage, print its figures to stderr, return them. `run` (a Run) gives the stage its log
    file and the deadline."""
    print(f"{label} …", file=sys.stderr, flush=True)
    log = run.log(label) if run is not None else None
    stdout, seconds, peak = run_measured(command, env, log, run.deadline if run is not None else None)
    print(f"{label}: {seconds} s, peak {peak} MB", file=sys.stderr, flush=True)
    return {"seconds": seconds, "peak_mb": peak, "out": last_json(stdout) if stdout.strip() else None}


def prepare(folder, work, whole):
    """The database (every export when `whole`, else registrations only), ingested once and kept
    beside the district (with the ingestion's figures), copied for the run and migrated."""
    kept = folder.with_name(folder.name + ("-whole" if whole else "-registrations") + ".db")
    figures = kept.with_suffix(".json")
    if not figures.exists():
        command, env = flask(kept, "db", "upgrade")
        run_measured(command, env)
        files = [str(folder)] if whole else [str(p) for p in folder.glob("市场监管_主体登记_*")]
        command, env = flask(kept, "data", "ingest", *files)
        result = measured("ingest" if whole else "ingest registrations", command, env)
        result["out"] = {"totals": result["out"]["totals"]} if result["out"] else None
        figures.write_text(json.dumps(result), encoding="utf-8")
    database = work / "platform.db"
    shutil.copyfile(kept, database)
    command, env = flask(database, "db", "upgrade")
    run_measured(command, env)
    return database, json.loads(figures.read_text(encoding="utf-8"))


def snapshot_stage(folder, work, database, whole, run):
    """The snapshot: `flask data snapshot` of the database, or of the exports when not all are ingested.
    A kept run folder's snapshot is reused, with the figures of the run that wrote it."""
    snap, figures = work / "snapshot", work / "snapshot.json"
    if figures.exists() and (snap / "manifest.json").exists():
        print(f"snapshot: reused from {snap}", file=sys.stderr, flush=True)
        return snap, {**json.loads(figures.read_text(encoding="utf-8")), "reused": True}
    shutil.rmtree(snap, ignore_errors=True)
    if whole:
        command, env = flask(database, "data", "snapshot", "--out", str(snap))
    else:
        command = [sys.executable, "-m", "benchmarks.scale_stages", "export-snapshot", str(folder), str(snap),
                   str(database), str(SNAPSHOT_PROCESSES)]
        env = None
    result = measured("snapshot", command, env, run)
    figures.write_text(json.dumps(result), encoding="utf-8")
    return snap, result


def engines(firms, pandas_max, workers=(1, 2)):
    """The engines measured at this size: pandas where one process holds the district, then Dask with
    each of `workers` (in that order)."""
    chosen = [("pandas", 0)] if firms <= pandas_max else []
    return chosen + [("dask", n) for n in workers]


def features_stage(snap, database, engine, workers, partition, run=None):
    command = [sys.executable, "-m", "benchmarks.scale_stages", "features", str(snap), str(database), engine,
               str(workers), _per_worker(workers), str(partition)]
    return measured(f"features {engine} {workers or ''}".strip(), command, run=run)


def training_stage(snap, registry, engine, workers, partition, run=None):
    command = [sys.executable, "-m", "training.train", "--snapshot", str(snap), "--out", str(registry),
               "--engine", engine]
    if engine == "dask":
        command += ["--workers", str(workers), "--memory-limit", _per_worker(workers), "--partition-size",
                    str(partition)]
    return measured(f"training {engine} {workers or ''}".strip(), command, run=run)


def refresh_stage(snap, database, registry, engine, workers, whole, partition, run=None):
    command = [sys.executable, "-m", "benchmarks.scale_stages", "refresh", str(snap), str(database), str(registry),
               engine, str(workers), _per_worker(max(workers, 1)), "update" if whole else "keep", str(partition)]
    return measured(f"refresh {engine} {workers or ''}".strip(), command, run=run)


def _per_worker(workers):
    """Each LocalCluster worker's memory limit: 10 GiB in all, whatever the number of workers."""
    return f"{10 / max(workers, 1):.1f}GiB"


STAGES = ("features", "training", "refresh")


class Run:
    """One run's folder, deadline and figures so far, written to `results` after every stage."""

    def __init__(self, work, results=None, deadline=None):
        self.work, self.results, self.deadline = Path(work), results, deadline
        self.figures = {}

    def log(self, label):
        return self.work / f"{label.replace(' ', '-')}.log"

    def save(self):
        """The figures so far, with the whole pipeline's peak, to the results file (replaced whole)."""
        figures = self.figures
        stages = figures.get("stages", {})
        peaks = [s["peak_mb"] for e in stages.values() for s in e.values()]
        if "snapshot" in figures:
            peaks.append(figures["snapshot"]["peak_mb"])
        figures["ratios"] = ratios(stages)
        figures["pipeline_peak_mb"] = max(peaks, default=None)
        if self.results is not None:
            temporary = self.results.with_name(self.results.name + ".tmp")
            temporary.write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")
            temporary.replace(self.results)
        return figures


def measure(firms, cache, work, pandas_max, partition, workers=(1, 2), stages=STAGES, run=None):
    """Every stage with every engine at this size; the figures as a JSON-ready dict (also in `run`'s
    results file as each stage ends). A stage stopped at the deadline ends the run there."""
    run = run or Run(work)
    folder = district(firms, cache)
    whole = firms <= pandas_max
    result = run.figures
    result.update({"firms": firms, "months": MONTHS, "seed": SEED, "partition_size": partition,
                   "partitions": -(-firms // partition), "workers": list(workers), "stages": {},
                   "started": _now()})
    try:
        database, result["ingest"] = prepare(folder, work, whole)
        snap, result["snapshot"] = snapshot_stage(folder, work, database, whole, run)
        run.save()
        registry = work / "models"
        for engine, count in engines(firms, pandas_max, workers):
            name = engine if engine == "pandas" else f"dask{count}"
            figures = result["stages"].setdefault(name, {})
            version = None
            for stage in stages:
                if stage == "features":
                    figures["features"] = features_stage(snap, database, engine, count, partition, run)
                elif stage == "training":
                    figures["training"] = training_stage(snap, registry / name, engine, count, partition, run)
                    version = figures["training"]["out"]["path"]
                else:
                    figures["refresh"] = refresh_stage(snap, database, version, engine, count, whole, partition, run)
                run.save()
    except Stopped as stop:
        result["stopped"] = {"stage": _current(run), "seconds": stop.seconds, "peak_mb": stop.peak_mb,
                             "at": _now(), "log_tail": stop.log_tail}
        print(f"stopped at the deadline: {stop}", file=sys.stderr, flush=True)
    result["ended"] = _now()
    return run.save()


def _current(run):
    """The stage whose log was written last (the one running when the run stopped)."""
    logs = sorted(run.work.glob("*.log"), key=lambda p: p.stat().st_mtime)
    return logs[-1].stem if logs else None


def _now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def ratios(stages):
    """Each Dask stage's wall time and peak memory against the pandas one of the same run."""
    if "pandas" not in stages:
        return {}
    base = stages["pandas"]
    return {name: {stage: {"seconds": round(figures[stage]["seconds"] / base[stage]["seconds"], 3),
                           "peak_mb": round(figures[stage]["peak_mb"] / base[stage]["peak_mb"], 3)}
                   for stage in figures if stage in base}
            for name, figures in stages.items() if name != "pandas"}


def worker_counts(text):
    """`--workers 2,1`: the Dask worker counts in the order given."""
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("worker counts are positive integers, e.g. 2,1")
    return counts


def stage_order(text):
    """`--stages training,refresh,features`: the stages measured for each engine, in that order (the
    refresh scores with the model the training stage of the same engine wrote, so it comes after it)."""
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    if not chosen or set(chosen) - set(STAGES) or len(set(chosen)) != len(chosen):
        raise argparse.ArgumentTypeError(f"stages among {', '.join(STAGES)}, each once")
    if "refresh" in chosen and ("training" not in chosen or chosen.index("training") > chosen.index("refresh")):
        raise argparse.ArgumentTypeError("the refresh needs the training stage before it")
    return chosen


def deadline_at(text, now=None):
    """`--stop-at HH:MM` (UTC): the next such time, as a time.time() value."""
    now = now or dt.datetime.now(dt.UTC)
    hours, minutes = map(int, text.split(":"))
    at = now.replace(hour=hours, minute=minutes, second=0, microsecond=0)
    if at <= now:
        at += dt.timedelta(days=1)
    return at.timestamp()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_FIRMS:,} firms instead of {FIRMS:,}")
    parser.add_argument("--firms", type=int, help="another size")
    parser.add_argument("--cache", type=Path, default=CACHE, help="where generated districts are kept")
    parser.add_argument("--pandas-max", type=int, default=PANDAS_MAX,
                        help="the largest district the pandas path and the whole ingestion are run on")
    parser.add_argument("--partition-size", type=int, help="subjects a Dask partition (quick: 5,000; else 20,000)")
    parser.add_argument("--workers", type=worker_counts, default=[1, 2],
                        help="Dask worker counts, measured in this order (default 1,2)")
    parser.add_argument("--stages", type=stage_order, default=list(STAGES),
                        help="stages for each engine, in this order (default features,training,refresh)")
    parser.add_argument("--results", type=Path,
                        help="the figures so far, rewritten as each stage ends (default CACHE/scale-FIRMS.json)")
    parser.add_argument("--work", type=Path, help="keep the run's folder here (its snapshot is reused next time)")
    parser.add_argument("--stop-at", help="HH:MM UTC: stop the stage running then and end with the figures so far")
    args = parser.parse_args(argv)
    partition = args.partition_size or (QUICK_PARTITION if args.quick else SUBJECTS_PER_PARTITION)
    firms = args.firms or (QUICK_FIRMS if args.quick else FIRMS)
    args.cache.mkdir(parents=True, exist_ok=True)
    results = args.results or args.cache / f"scale-{firms}.json"
    deadline = deadline_at(args.stop_at) if args.stop_at else None
    with _work_folder(args.work, args.cache) as work:
        run = Run(work, results, deadline)
        result = measure(firms, args.cache, work, args.pandas_max, partition, args.workers, args.stages, run)
    print(json.dumps(result, ensure_ascii=False))


@contextmanager
def _work_folder(kept, cache):
    if kept is not None:
        kept.mkdir(parents=True, exist_ok=True)
        yield kept
        return
    with tempfile.TemporaryDirectory(dir=cache, prefix="run-") as work:
        yield Path(work)


if __name__ == "__main__":
    main()
