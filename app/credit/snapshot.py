"""Columnar snapshots of the department records: Parquet partitioned by source and period, with a manifest.

A snapshot folder holds `source=<name>/period=<YYYY-MM or none>/batch-<id>-<part>.parquet` files and
`manifest.json`. Each loaded batch is written once: a later run writes only the batches loaded since
(incremental), and a run with nothing new changes nothing (idempotent). A correction is a record of a
later batch with the same natural key, so a reader keeps, per natural key, the record with the highest
id — the current one, as `records_from_db` reads it. The manifest lists every batch written (source,
file checksum, rows, the Parquet files with their rows and sha256); its digest is the data fingerprint
that training and scoring record.
"""
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from sqlalchemy import Text, cast, select

from app.common.checksums import file_sha256
from app.entities import SourceBatch, SourceRecord
from app.ingest.loading import check_export, join_columns, payload_frame
from app.ingest.reading import UnreadableExport, read_export_chunks
from app.ingest.runner import export_files, ordered
from app.ingest.sources import SOURCES, get_source, source_for_file
from app.ingest.validation import ParsedColumns, is_known, typed_frame

from .records import DATE_KINDS, typed_payloads

MANIFEST = "manifest.json"
SUBJECTS = "subjects.parquet"  # an export snapshot's subject numbering (code, id)
ROWS_PER_READ = 200_000  # records fetched from the database at a time: memory stays flat on big batches
ROW_GROUP = 50_000  # rows per Parquet row group; files are sorted by subject, so a subject range skips most
NUMBER_KINDS = ("int", "decimal", "money", "year")
NO_PERIOD = "none"


def arrow_schema(source):
    """The Parquet columns of a source: the record's identity, then its typed columns."""
    fields = [pa.field("record_id", pa.int64()), pa.field("subject_id", pa.int64()),
              pa.field("natural_key", pa.string())]
    for column in source.columns:
        if column.kind in NUMBER_KINDS:
            kind = pa.float64()
        elif column.kind in DATE_KINDS:
            kind = pa.timestamp("us")
        elif column.kind == "bool":
            kind = pa.bool_()
        else:
            kind = pa.string()
        fields.append(pa.field(column.name, kind))
    return pa.schema(fields)


def read_manifest(folder):
    """The manifest of a snapshot folder (an empty one when the folder has none yet)."""
    path = Path(folder) / MANIFEST
    if not path.exists():
        return {"batches": {}, "digest": manifest_digest({})}
    return json.loads(path.read_text(encoding="utf-8"))


def manifest_digest(batches):
    """sha256 over the batches written (id, source, file checksum, rows, files with their sha256)."""
    canonical = json.dumps({key: batches[key] for key in sorted(batches)}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def fingerprint(folder):
    """The data fingerprint of a snapshot: `snapshot:` and its manifest's digest."""
    return f"snapshot:{read_manifest(folder)['digest']}"


def database_fingerprint(session):
    """`batches:` and a sha256 over the loaded batches (id, source, file checksum, rows inserted and
    updated): what a snapshot of the database would hold, without writing it."""
    rows = session.execute(select(SourceBatch.id, SourceBatch.source, SourceBatch.file_sha256,
                                  SourceBatch.rows_inserted, SourceBatch.rows_updated)
                           .where(SourceBatch.status == "loaded").order_by(SourceBatch.id)).all()
    return "batches:" + hashlib.sha256(json.dumps([list(row) for row in rows]).encode()).hexdigest()


def write_snapshot(session, folder):
    """Write the loaded batches not yet in the snapshot at `folder`; returns the run's figures.

    The records are read in one pass in id order (the primary key: no scan per batch), ROWS_PER_READ
    at a time, keeping those of the new batches that no correction has superseded.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(folder)
    done = {int(key) for key in manifest["batches"]}
    new = {batch_id: {"source": source_name, "file_sha256": digest, "rows": 0, "files": []}
           for batch_id, source_name, digest in session.execute(
               select(SourceBatch.id, SourceBatch.source, SourceBatch.file_sha256)
               .where(SourceBatch.status == "loaded").order_by(SourceBatch.id)).all() if batch_id not in done}
    if new:
        _write_batches(session, folder, new)
    for batch_id, entry in new.items():
        entry["rows"] = sum(f["rows"] for f in entry["files"])
        manifest["batches"][str(batch_id)] = entry
    if new or not (folder / MANIFEST).exists():
        manifest["digest"] = manifest_digest(manifest["batches"])
        temporary = folder / f"{MANIFEST}.tmp"
        temporary.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        temporary.replace(folder / MANIFEST)  # the manifest names only files already written whole
    return {"batches_written": len(new), "rows_written": sum(e["rows"] for e in new.values()),
            "batches": len(manifest["batches"]), "rows": sum(b["rows"] for b in manifest["batches"].values()),
            "digest": manifest["digest"]}


def _write_batches(session, folder, new):
    """The new batches' current records as Parquet files: per block read, one per batch and period."""
    table = SourceRecord.__table__
    last, part = 0, 0
    while True:
        query = (select(table.c.id, table.c.subject_id, table.c.natural_key, cast(table.c.payload, Text),
                        table.c.period, table.c.batch_id)
                 .where(table.c.id > last, table.c.superseded_by_id.is_(None), table.c.batch_id.in_(list(new)))
                 .order_by(table.c.id).limit(ROWS_PER_READ))
        block = session.connection().execute(query).all()
        if not block:
            return
        last = block[-1][0]
        by_batch = {}
        for row in block:
            by_batch.setdefault(row[5], []).append(row)
        for batch_id, rows in by_batch.items():
            source = get_source(new[batch_id]["source"])
            for period, piece in _block_frame(source, rows):
                new[batch_id]["files"].append(_write_file(folder, source, period, f"batch-{batch_id}-{part}.parquet",
                                                          piece, arrow_schema(source)))
        part += 1


def _block_frame(source, rows):
    """(period, frame) pieces of one batch's rows of a block: typed columns with the record's identity."""
    frame = typed_payloads(source, json.loads(f"[{','.join(row[3] for row in rows)}]"))
    frame.insert(0, "natural_key", [row[2] for row in rows])
    frame.insert(0, "subject_id", np.fromiter((row[1] for row in rows), dtype=np.int64, count=len(rows)))
    frame.insert(0, "record_id", np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows)))
    periods = pd.Series([_month(row[4]) for row in rows])
    return frame.groupby(periods, sort=True)


def _month(period):
    if period is None:
        return NO_PERIOD
    return period.strftime("%Y-%m") if hasattr(period, "strftime") else str(period)[:7]


def _write_file(folder, source, period, name, frame, schema):
    relative = Path(f"source={source.name}") / f"period={period}" / name
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = frame.sort_values(["subject_id", "record_id"], kind="stable")
    arrow = pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
    pq.write_table(arrow, path, row_group_size=ROW_GROUP)
    entry = {"path": relative.as_posix(), "rows": len(frame), "sha256": file_sha256(path)}
    if len(frame):  # the file's first and last subject: a reader of a subject range opens only its files
        entry["subjects"] = [int(frame["subject_id"].iloc[0]), int(frame["subject_id"].iloc[-1])]
    return entry


def write_export_snapshot(folder, out, towns, subject_ids=None, rows=ROWS_PER_READ, processes=1):
    """Snapshot a folder of department exports (validated as ingestion validates them) without a
    database, read `rows` rows at a time; returns the figures as write_snapshot does.

    Each export file is a batch keyed by its checksum (a file already in the snapshot is skipped).
    Subjects are numbered in the order of registration unless `subject_ids` (code → id: the
    platform's own) is given; later files supersede earlier ones key by key, as `read_district`.
    The registrations are written first, in this process (they number the subjects); the other
    files, which only read the numbering, by `processes` processes at once. A file's records are
    numbered from its own block of FILE_RECORD_IDS ids, blocks in the order of the files, so that
    the snapshot is the same whatever the number of processes.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(out)
    ids = _subject_index(out, subject_ids)
    todo = []
    for path in ordered(export_files(folder)):
        source = source_for_file(path.name)
        digest = file_sha256(path) if source is not None else None
        if source is not None and digest not in manifest["batches"] and digest not in {t[2] for t in todo}:
            todo.append((path, source.name, digest))
    first_id = manifest.get("next_record_id", 1)
    jobs = [(out, name, path, towns, rows, first_id + n * FILE_RECORD_IDS, f"file-{len(manifest['batches']) + n}")
            for n, (path, name, _) in enumerate(todo)]
    manifest["next_record_id"] = first_id + len(todo) * FILE_RECORD_IDS
    outcomes = {}
    for n, job in enumerate(jobs):  # the registrations first: they number the subjects the others read
        if job[1] == "registration":
            outcomes[n] = _export_job(job, ids)
    rest = [n for n in range(len(jobs)) if n not in outcomes]
    if processes > 1 and len(rest) > 1:
        outcomes.update(_export_jobs_in_processes([jobs[n] for n in rest], rest, ids, processes))
    else:
        outcomes.update({n: _export_job(jobs[n], ids) for n in rest})
    written = added = 0
    refused = []
    for n, (path, name, digest) in enumerate(todo):
        files = outcomes[n]
        if files is None:  # as ingestion would refuse it (and read_district skip it)
            refused.append(path.name)
            continue
        manifest["batches"][digest] = {"source": name, "file_sha256": digest, "file_name": path.name,
                                       "rows": sum(f["rows"] for f in files), "files": files}
        written += 1
        added += manifest["batches"][digest]["rows"]
    pd.DataFrame({"code": list(ids), "id": list(ids.values())}).to_parquet(out / SUBJECTS)
    manifest["digest"] = manifest_digest(manifest["batches"])
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return {"batches_written": written, "rows_written": added, "batches": len(manifest["batches"]),
            "rows": sum(b["rows"] for b in manifest["batches"].values()), "digest": manifest["digest"],
            "refused": refused}


FILE_RECORD_IDS = 2**32  # the record ids of one export file's block (ids stay below 2**63 for 2**31 files)
_shared_ids = {}  # code → subject id in a process writing export files (set once by its initializer)


def _export_job(job, ids):
    """Write one export file's records ((out, source name, path, towns, rows, first record id, file
    name stem)); its Parquet files' entries, or None when the file is unreadable."""
    out, name, path, towns, rows, first_id, stem = job
    try:
        return _write_export(out, get_source(name), path, towns, ids, rows, first_id, stem)
    except UnreadableExport:
        return None


def _share_ids(ids):
    global _shared_ids
    _shared_ids = ids


def _export_job_in_process(job):
    return _export_job(job, _shared_ids)


def _export_jobs_in_processes(jobs, numbers, ids, processes):
    """{number: outcome} of the jobs run by `processes` processes (fresh interpreters: pyarrow's
    threads do not survive a fork), the largest files first so that none is left to run alone."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    order = sorted(range(len(jobs)), key=lambda i: -Path(jobs[i][2]).stat().st_size)
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"), initializer=_share_ids,
                             initargs=(ids,)) as pool:
        futures = {numbers[i]: pool.submit(_export_job_in_process, jobs[i]) for i in order}
        return {number: future.result() for number, future in futures.items()}


def subject_index(folder):
    """code → subject id of an export snapshot (see write_export_snapshot)."""
    path = Path(folder) / SUBJECTS
    if not path.exists():
        return {}
    frame = pd.read_parquet(path)
    return dict(zip(frame["code"], frame["id"].astype(int), strict=True))


def _subject_index(out, given):
    if given is not None:
        return dict(given)
    return subject_index(out)


def _write_export(out, source, path, towns, ids, rows, first_id, stem):
    """One export file's records as Parquet files, numbered from `first_id` (registrations add their
    new subjects to `ids`)."""
    files, schema = [], arrow_schema(source)
    for part, export in enumerate(read_export_chunks(path, source, rows)):
        parsed = ParsedColumns()  # each column parsed once, for the checks and the typing
        cells, rejects, _ = check_export(export, source, towns, ids, parsed)
        typed = typed_frame(cells.drop(index=pd.unique(rejects["index"])), source, parsed)
        if source.name == "registration":
            for code in typed["subject_code"]:
                ids.setdefault(code, len(ids) + 1)
        typed = typed[is_known(typed["subject_code"], ids).to_numpy()].reset_index(drop=True)
        # A dict lookup a row: Series.map(dict) first made a Series of the million codes, every chunk.
        subject = np.fromiter((ids[code] for code in typed["subject_code"].tolist()), dtype=np.int64,
                              count=len(typed))
        frame = typed.assign(record_id=np.arange(first_id, first_id + len(typed), dtype=np.int64), subject_id=subject,
                             natural_key=join_columns(payload_frame(source, typed)[list(source.natural_key)]))
        first_id += len(typed)
        for period, piece in frame.groupby(_export_periods(source, frame), sort=True):
            files.append(_write_file(out, source, period, f"{stem}-{part}.parquet", piece, schema))
    return files


def _export_periods(source, frame):
    """The partition of each row: its period's month (a year's is January, as the database stores it)."""
    if source.period is None:
        return pd.Series(NO_PERIOD, index=frame.index)
    values = frame[source.period]
    if source.column(source.period).kind == "year":
        return values.map(lambda y: NO_PERIOD if pd.isna(y) else f"{int(y):04d}-01")
    return values.dt.strftime("%Y-%m").fillna(NO_PERIOD)


def data_as_of(folder, sources=("tax_filing", "social_insurance", "housing_fund", "utilities", "logistics",
                                   "operations")):
    """The first day after the last month the monthly sources hold (as scoring.data_as_of says of the
    database), from the snapshot's partitions."""
    months = [f["path"].split("/")[1].removeprefix("period=") for b in read_manifest(folder)["batches"].values()
              if b["source"] in sources for f in b["files"]]
    last = max((m for m in months if m != NO_PERIOD), default=None)
    if last is None:
        return None
    year, month = map(int, last.split("-"))
    return pd.Timestamp(year + month // 12, month % 12 + 1, 1).date()


def read_records(folder, subject_range=None, sources=None, penalties=None):
    """The current records of the snapshot, as `records_from_db` returns them ({source: typed frame}).

    `subject_range` (first, last subject id, both included) reads only those subjects: the files are
    sorted by subject, so Parquet's row-group statistics skip the rest. `penalties` as in
    records_from_db.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    present = {batch["source"] for batch in manifest["batches"].values()}
    frames = {}
    for source in SOURCES:
        if source.name not in present or (sources is not None and source.name not in sources):
            continue
        frame = _read_source(folder, source, manifest, subject_range)
        if len(frame):
            frames[source.name] = _as_stored(source, frame, penalties)
    return frames


def read_source(folder, name):
    """One source's current records with their `subject_id` (e.g. the loans to partition by subject)."""
    source = get_source(name)
    frame = _read_source(Path(folder), source, read_manifest(folder), None)
    return _as_stored(source, frame, None).assign(subject_id=frame["subject_id"].to_numpy())


def _read_source(folder, source, manifest, subject_range):
    paths = [str(folder / f["path"]) for batch in manifest["batches"].values() if batch["source"] == source.name
             for f in batch["files"] if _may_hold(f, subject_range)]
    schema = arrow_schema(source)
    if not paths:
        return schema.empty_table().to_pandas()
    dataset = ds.dataset(paths, schema=schema, format="parquet")
    where = None
    if subject_range is not None:
        where = (ds.field("subject_id") >= subject_range[0]) & (ds.field("subject_id") <= subject_range[1])
    table = dataset.to_table(filter=where)
    frame = table.to_pandas()
    # Several versions of a key (a correction in a later batch): the newest record is the current one.
    frame = frame.sort_values("record_id", kind="stable").drop_duplicates("natural_key", keep="last")
    return frame.sort_values(["subject_id", "record_id"], kind="stable").reset_index(drop=True)


def _may_hold(entry, subject_range):
    """Whether a file may hold subjects of the range: not when the manifest gives the file's first
    and last subject outside it. A million-firm snapshot has thousands of files per source, and
    opening each one's footer to read its row-group statistics cost more than reading the range."""
    if subject_range is None or "subjects" not in entry:
        return True
    first, last = entry["subjects"]
    return first <= subject_range[1] and last >= subject_range[0]


def _as_stored(source, frame, penalties):
    """The records typed as records_from_db types them (the same dtypes, hence the same features)."""
    frame = frame[[c.name for c in source.columns]].reset_index(drop=True)
    if source.name == "penalty" and penalties is not None:  # few rows: the rules read payloads
        return typed_payloads(source, penalties.used(_payloads(source, frame)))
    return frame


def _payloads(source, frame):
    """Rows as the stored JSON payloads read: dates as ISO text, missing values as None."""
    out = frame.copy()
    for column in source.columns:
        if column.kind in DATE_KINDS:
            out[column.name] = out[column.name].dt.strftime("%Y-%m-%d")
    out = out.astype(object).where(out.notna(), None)
    return out.to_dict("records")
