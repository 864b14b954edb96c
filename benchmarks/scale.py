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
the run's database, snapshot and model versions go to a temporary folder beside them.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

SEED, MONTHS = 42, 36
FIRMS, QUICK_FIRMS = 1_000_000, 20_000
CACHE = Path(__file__).resolve().parents[1] / "instance" / "bench-cache"
PANDAS_MAX = 200_000  # above this one pandas process would not hold the district's records
QUICK_PARTITION = 5_000  # several partitions even on the quick district, so that two workers share them
SUBJECTS_PER_PARTITION = 20_000
REGION = "610203"


def tree_rss(process):
    """Resident bytes of a process and all its descendants (0 for those already gone)."""
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def run_measured(command, env=None):
    """Run a command; (stdout, wall seconds, peak MB of its whole process tree)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
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
        child.wait()
        sampler.join()
        seconds = time.perf_counter() - started
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed ({child.returncode}):\n{stderr[-3000:]}")
    return stdout, round(seconds, 1), round(peak[0] / 2**20, 1)


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


def measured(label, command, env=None):
    """Run a stage, print its figures to stderr, return them."""
    print(f"{label} …", file=sys.stderr, flush=True)
    stdout, seconds, peak = run_measured(command, env)
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


def snapshot_stage(folder, work, database, whole):
    """The snapshot: `flask data snapshot` of the database, or of the exports when not all are ingested."""
    snap = work / "snapshot"
    if whole:
        command, env = flask(database, "data", "snapshot", "--out", str(snap))
    else:
        command = [sys.executable, "-m", "benchmarks.scale_stages", "export-snapshot", str(folder), str(snap),
                   str(database)]
        env = None
    return snap, measured("snapshot", command, env)


def engines(firms, pandas_max):
    """The engines measured at this size: pandas where one process holds the district, Dask 1 and 2."""
    chosen = [("pandas", 0)] if firms <= pandas_max else []
    return chosen + [("dask", 1), ("dask", 2)]


def features_stage(snap, database, engine, workers, partition):
    command = [sys.executable, "-m", "benchmarks.scale_stages", "features", str(snap), str(database), engine,
               str(workers), _per_worker(workers), str(partition)]
    return measured(f"features {engine} {workers or ''}", command)


def training_stage(snap, registry, engine, workers, partition):
    command = [sys.executable, "-m", "training.train", "--snapshot", str(snap), "--out", str(registry),
               "--engine", engine]
    if engine == "dask":
        command += ["--workers", str(workers), "--memory-limit", _per_worker(workers), "--partition-size",
                    str(partition)]
    return measured(f"training {engine} {workers or ''}", command)


def refresh_stage(snap, database, registry, engine, workers, whole, partition):
    command = [sys.executable, "-m", "benchmarks.scale_stages", "refresh", str(snap), str(database), str(registry),
               engine, str(workers), _per_worker(max(workers, 1)), "update" if whole else "keep", str(partition)]
    return measured(f"refresh {engine} {workers or ''}", command)


def _per_worker(workers):
    """Each LocalCluster worker's memory limit: 10 GiB in all, whatever the number of workers."""
    return f"{10 / max(workers, 1):.1f}GiB"


def measure(firms, cache, work, pandas_max, partition):
    """Every stage with every engine at this size; the figures as a JSON-ready dict."""
    folder = district(firms, cache)
    whole = firms <= pandas_max
    database, ingest = prepare(folder, work, whole)
    snap, snapshot_figures = snapshot_stage(folder, work, database, whole)
    result = {"firms": firms, "months": MONTHS, "seed": SEED, "partition_size": partition,
              "partitions": -(-firms // partition), "ingest": ingest, "snapshot": snapshot_figures,
              "stages": {}}
    registry = work / "models"
    for engine, workers in engines(firms, pandas_max):
        name = engine if engine == "pandas" else f"dask{workers}"
        figures = {"features": features_stage(snap, database, engine, workers, partition),
                   "training": training_stage(snap, registry / name, engine, workers, partition)}
        version = figures["training"]["out"]["path"]
        figures["refresh"] = refresh_stage(snap, database, version, engine, workers, whole, partition)
        result["stages"][name] = figures
    result["ratios"] = ratios(result["stages"])
    result["pipeline_peak_mb"] = max([snapshot_figures["peak_mb"]] + [s["peak_mb"] for e in result["stages"].values()
                                                                      for s in e.values()])
    return result


def ratios(stages):
    """Each Dask stage's wall time and peak memory against the pandas one of the same run."""
    if "pandas" not in stages:
        return {}
    base = stages["pandas"]
    return {name: {stage: {"seconds": round(figures[stage]["seconds"] / base[stage]["seconds"], 3),
                           "peak_mb": round(figures[stage]["peak_mb"] / base[stage]["peak_mb"], 3)}
                   for stage in figures}
            for name, figures in stages.items() if name != "pandas"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_FIRMS:,} firms instead of {FIRMS:,}")
    parser.add_argument("--firms", type=int, help="another size")
    parser.add_argument("--cache", type=Path, default=CACHE, help="where generated districts are kept")
    parser.add_argument("--pandas-max", type=int, default=PANDAS_MAX,
                        help="the largest district the pandas path and the whole ingestion are run on")
    parser.add_argument("--partition-size", type=int, help="subjects a Dask partition (quick: 5,000; else 20,000)")
    args = parser.parse_args(argv)
    partition = args.partition_size or (QUICK_PARTITION if args.quick else SUBJECTS_PER_PARTITION)
    firms = args.firms or (QUICK_FIRMS if args.quick else FIRMS)
    args.cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.cache, prefix="run-") as work:
        result = measure(firms, args.cache, Path(work), args.pandas_max, partition)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
