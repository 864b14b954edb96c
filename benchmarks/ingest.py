"""Ingest throughput: `python -m benchmarks.ingest [--quick]`.

Loads a synthetic 100k-firm district (`--quick`: 2,000 firms) through the platform's ingestion path
(`app.ingest.runner.ingest_paths`: validation, typing, idempotency, reject reports) on SQLite and on
PostgreSQL, each into a fresh database, and in the same run a bare bulk load of the same rows with no
validation (pandas read, then executemany on SQLite and COPY on PostgreSQL) into another fresh
database of the same kind. The goal is at least half the bare bulk speed. Before either is timed,
every file is read once (page cache) and a small export of each kind read and checked once (imports).

The district is made once by `python -m training.synth` into instance/bench-cache/district-<firms>.
PostgreSQL: the database `bench_ingest` on postgresql://postgres@127.0.0.1:5432, dropped and made
again for every run (override with BENCH_DATABASE_URL; its name must contain "bench").
Progress goes to stderr; the last line printed is one JSON object.
"""
import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app import create_app
from app.common.region import town_codes
from app.config import PROJECT_DIR, Config, normalise_database_url
from app.entities import SourceBatch
from app.entities.base import bulk_insert, utcnow
from app.extensions import db
from app.ingest import storing
from app.ingest.loading import check_export
from app.ingest.reading import CSV_ENCODINGS, read_export
from app.ingest.registration import subject_index
from app.ingest.runner import export_files, ingest_paths, ordered
from app.ingest.sources import source_for_file

FIRMS, QUICK_FIRMS = 100_000, 2_000
CACHE = PROJECT_DIR / "instance" / "bench-cache"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/bench_ingest"
REGION = Config.REGION_CODE
SUBJECT_COLUMNS = ("kind", "name", "uscc", "household_id", "town_code", "industry_code", "size_class", "status",
                   "legal_rep_name", "uscc_check_failed", "created_at")


def say(message):
    """Progress, on stderr."""
    print(message, file=sys.stderr, flush=True)


def district(firms):
    """The cached district of `firms` firms (seed 1), generated on first use."""
    folder = CACHE / f"district-{firms}"
    if folder.is_dir():
        say(f"district: reusing {folder}")
        return folder
    partial = CACHE / f"district-{firms}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    say(f"district: generating {firms:,} firms into {folder} ...")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "training.synth", "--firms", str(firms), "--seed", "1", "--out",
                    str(partial)], check=True, stdout=subprocess.DEVNULL)
    partial.rename(folder)  # only a finished district is ever reused
    say(f"district: generated in {time.perf_counter() - started:.0f} s")
    return folder


def warm_page_cache(paths):
    """Read every file once so that neither timed run pays for the disk; returns the bytes read."""
    size = 0
    for path in paths:
        size += len(Path(path).read_bytes())
    return size


def warm_up(paths, towns):
    """Import what the first file of either timed run would otherwise import (the Excel reader, the
    validation library's backends), so that neither run pays a once-per-process cost: our ingest
    always runs first. Reads and checks the smallest Excel and CSV exports, writing nothing."""
    for suffixes in ((".xlsx", ".xlsm"), (".csv", ".txt")):
        files = [p for p in paths if p.suffix.lower() in suffixes and source_for_file(p.name)]
        if files:
            path = min(files, key=lambda p: p.stat().st_size)
            read_bare(path)
            source = source_for_file(path.name)
            check_export(read_export(path, source), source, frozenset(towns), {})


class PostgresBench:
    """The dedicated benchmark database: dropped and created again before each run."""

    def __init__(self, url):
        self.url = make_url(normalise_database_url(url))
        name = self.url.database or ""
        if not re.fullmatch(r"\w*bench\w*", name):
            raise SystemExit(f"refusing to drop database {name!r}: BENCH_DATABASE_URL must name a database "
                             "whose name contains 'bench' (never the test database)")
        self.name = name
        self.server = create_engine(self.url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def check(self):
        """Fail with a clear message when the server cannot be reached."""
        try:
            with self.server.connect() as connection:
                connection.execute(text("SELECT 1"))
        except OperationalError as error:
            raise SystemExit(f"PostgreSQL is not reachable at {self.url.render_as_string()}: "
                             f"{error.orig}\nstart it or set BENCH_DATABASE_URL") from None

    def fresh(self):
        """The URL of an empty database `name`."""
        with self.server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        return self.url.render_as_string(hide_password=False)


def bench_app(url, scratch):
    """An app on `url` whose schema is built; rejects go to `scratch`."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REJECT_DIR": str(scratch / "rejects"),
                      "UPLOAD_DIR": str(scratch / "uploads")})
    with app.app_context():
        db.create_all()
    return app


def run_ours(url, paths, towns, scratch):
    """Time `ingest_paths` on a fresh database: seconds, rows read, and the run's totals."""
    app = bench_app(url, scratch)
    with app.app_context():
        started, cpu = time.perf_counter(), time.process_time()
        summary = ingest_paths(db.session, paths, towns)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        db.session.remove()
        db.engine.dispose()
    failed = [f["file"] for f in summary["files"] if f["status"] not in ("loaded", "already_loaded")]
    if failed:
        raise SystemExit(f"ingest did not load {len(failed)} file(s): {', '.join(failed)}")
    return seconds, cpu, summary["totals"]


def read_bare(path):
    """An export's cells as text, as pandas reads them (no header or cell clean-up)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl").fillna("")
    for encoding in CSV_ENCODINGS[:-1]:
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError:
            continue
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=CSV_ENCODINGS[-1])


def bare_subjects(session, frame, now):
    """Registration rows as credit subjects, text cells as received.

    The first row of each code is kept (the code is unique in the table); the date and capital cells,
    and the unmasked ID number, are left out: unvalidated, a malformed cell would abort the COPY.
    """
    frame = frame[frame["subject_code"] != ""].drop_duplicates("subject_code")
    farmer = (frame["kind"] == "农户").to_numpy()
    codes = frame["subject_code"].tolist()
    rows = zip(frame["kind"], frame["name"], [None if f else c for f, c in zip(farmer, codes, strict=True)],
               [c if f else None for f, c in zip(farmer, codes, strict=True)], frame["town_code"],
               frame["industry_code"], frame["size_class"], frame["status"], frame["legal_rep_name"],
               [False] * len(frame), [now] * len(frame), strict=True)
    bulk_insert(session, "credit_subject", SUBJECT_COLUMNS, list(rows))
    return len(frame)


def bare_records(session, frame, source, batch_id, subjects, now, stored_keys):
    """Other rows as source records: subject looked up by code, key and raw row as plain text.

    A key already written (a repeated row, a correction) is skipped: one current record per key is
    the table's unique index, which the bare load pays for like ours. `stored_keys` is updated.
    """
    subject_ids = frame["subject_code"].map(subjects)
    frame = frame[subject_ids.notna()]  # the record's subject is a required foreign key
    keys = pd.Series(["|".join(key) for key in zip(*(frame[name].tolist() for name in source.natural_key),
                                                      strict=True)], index=frame.index, dtype=object)
    seen = stored_keys.setdefault(source.name, set())
    fresh = ~keys.duplicated() & ~keys.isin(seen)
    frame, keys = frame[fresh], keys[fresh].tolist()
    seen.update(keys)
    if not keys:  # a file of corrections only
        return 0
    cells = {name: frame[name].tolist() for name in frame.columns}
    raw = [",".join(row) for row in zip(*cells.values(), strict=True)]
    payloads = frame.to_json(orient="records", lines=True, force_ascii=False).splitlines()
    count = len(frame)
    rows = zip(subject_ids[frame.index].astype(int).tolist(), [source.name] * count, keys, [None] * count,
               payloads, [""] * count, [batch_id] * count, (frame.index + 2).tolist(), raw, [now] * count,
               strict=True)
    storing.insert_records(session, list(rows))
    return count


def bare_file(session, path, subjects, stored_keys):
    """Load one file the bare way; returns rows read and rows written."""
    source = source_for_file(path.name)
    frame = read_bare(path)
    frame.columns = [c.name for c in source.columns]
    now = utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")
    if source.name == "registration":
        return len(frame), bare_subjects(session, frame, now)
    batch = insert(SourceBatch).values(source=source.name, file_name=path.name, file_sha256=path.name,
                                       status="loaded")  # one batch per file: its name stands for a checksum
    batch_id = session.execute(batch).inserted_primary_key[0]
    return len(frame), bare_records(session, frame, source, batch_id, subjects, now, stored_keys)


def run_bulk(url, paths, scratch):
    """Time the bare bulk load of every file on a fresh database: seconds, rows read, rows written."""
    app = bench_app(url, scratch)
    read = written = 0
    with app.app_context():
        started, cpu = time.perf_counter(), time.process_time()
        subjects, stored_keys = {}, {}
        for path in ordered([p for p in paths if source_for_file(p.name)]):
            rows_read, rows_written = bare_file(db.session, path, subjects, stored_keys)
            db.session.commit()
            read, written = read + rows_read, written + rows_written
            if source_for_file(path.name).name == "registration":
                subjects = subject_index(db.session)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        db.session.remove()
        db.engine.dispose()
    return seconds, cpu, read, written


def measure(backend, fresh_url, paths, towns):
    """Our ingest and the bare bulk load on `backend`, each on a fresh database."""
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as folder:
        scratch = Path(folder)
        say(f"{backend}: our ingest ...")
        ours_s, ours_cpu, totals = run_ours(fresh_url(scratch / "ours.db"), paths, towns, scratch / "ours")
        rows = totals["rows_read"]
        say(f"{backend}: our ingest {rows:,} rows in {ours_s:.1f} s ({rows / ours_s:,.0f} rows/s, "
            f"{ours_cpu:.0f} s CPU here); inserted {totals['inserted']:,}, rejected {totals['rejected']:,}, "
            f"duplicates {totals['duplicates']:,}")
        say(f"{backend}: bare bulk load ...")
        bulk_s, bulk_cpu, bulk_read, written = run_bulk(fresh_url(scratch / "bulk.db"), paths, scratch / "bulk")
        say(f"{backend}: bare bulk {bulk_read:,} rows in {bulk_s:.1f} s ({bulk_read / bulk_s:,.0f} rows/s, "
            f"{bulk_cpu:.0f} s CPU here); wrote {written:,}")
    if bulk_read != rows:
        raise SystemExit(f"{backend}: the bulk load read {bulk_read:,} rows, our ingest {rows:,}")
    figures = {"seconds": round(ours_s, 2), "cpu_s": round(ours_cpu, 1), "rows_per_s": round(rows / ours_s),
               "bulk_seconds": round(bulk_s, 2), "bulk_cpu_s": round(bulk_cpu, 1),
               "bulk_rows_per_s": round(bulk_read / bulk_s), "ratio_to_bulk": round(bulk_s / ours_s, 3),
               "rows_inserted": totals["inserted"], "rows_rejected": totals["rejected"],
               "rows_duplicate": totals["duplicates"], "bulk_rows_written": written}
    return {f"{backend}_{name}": value for name, value in figures.items()}, rows


def main(argv=None):
    """Run both backends and print the figures; the last line is the JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_FIRMS:,} firms instead of {FIRMS:,}")
    parser.add_argument("--firms", type=int, help="another district size")
    args = parser.parse_args(argv)
    firms = args.firms or (QUICK_FIRMS if args.quick else FIRMS)
    postgres = PostgresBench(os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG_URL))
    postgres.check()
    folder = district(firms)
    paths = export_files(folder)
    say(f"district: {len(paths)} files, {warm_page_cache(paths) / 2**20:,.0f} MB")
    towns = town_codes(REGION)
    warm_up(paths, towns)
    figures, rows = measure("sqlite", lambda path: f"sqlite:///{path}", paths, towns)
    pg_figures, pg_rows = measure("postgres", lambda _path: postgres.fresh(), paths, towns)
    assert rows == pg_rows, "both backends read the same files"
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"firms": firms, "quick": args.quick, "rows": rows, "files": len(paths), **figures,
                      **pg_figures, "peak_rss_mb": round(peak_mb, 1), "cpus": os.cpu_count()}))


if __name__ == "__main__":
    main()
