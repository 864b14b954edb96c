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
from app.ingest.sources import SOURCES, get_source

from .records import DATE_KINDS, typed_payloads

MANIFEST = "manifest.json"
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
            kind = pa.timestamp("ns")
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
    canonical = json.dumps({key: batches[key] for key in sorted(batches, key=int)}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def fingerprint(folder):
    """The data fingerprint of a snapshot: `snapshot:` and its manifest's digest."""
    return f"snapshot:{read_manifest(folder)['digest']}"


def write_snapshot(session, folder):
    """Write the loaded batches not yet in the snapshot at `folder`; returns the run's figures."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(folder)
    done = {int(key) for key in manifest["batches"]}
    batches = session.execute(select(SourceBatch.id, SourceBatch.source, SourceBatch.file_sha256)
                              .where(SourceBatch.status == "loaded").order_by(SourceBatch.id)).all()
    written = rows = 0
    for batch_id, source_name, file_digest in batches:
        if batch_id in done:
            continue
        files = _write_batch(session, folder, get_source(source_name), batch_id)
        manifest["batches"][str(batch_id)] = {"source": source_name, "file_sha256": file_digest,
                                              "rows": sum(f["rows"] for f in files), "files": files}
        written += 1
        rows += manifest["batches"][str(batch_id)]["rows"]
    if written or not (folder / MANIFEST).exists():
        manifest["digest"] = manifest_digest(manifest["batches"])
        temporary = folder / f"{MANIFEST}.tmp"
        temporary.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        temporary.replace(folder / MANIFEST)  # the manifest names only files already written whole
    return {"batches_written": written, "rows_written": rows, "batches": len(manifest["batches"]),
            "rows": sum(b["rows"] for b in manifest["batches"].values()), "digest": manifest["digest"]}


def _write_batch(session, folder, source, batch_id):
    """The batch's current records as Parquet files, one per period and block of ROWS_PER_READ rows."""
    files, last, part = [], 0, 0
    schema = arrow_schema(source)
    table = SourceRecord.__table__
    while True:
        query = (select(table.c.id, table.c.subject_id, table.c.natural_key, cast(table.c.payload, Text),
                        table.c.period)
                 .where(table.c.batch_id == batch_id, table.c.superseded_by_id.is_(None), table.c.id > last)
                 .order_by(table.c.id).limit(ROWS_PER_READ))
        block = session.connection().execute(query).all()
        if not block:
            return files
        last = block[-1][0]
        frame = typed_payloads(source, json.loads(f"[{','.join(row[3] for row in block)}]"))
        frame.insert(0, "natural_key", [row[2] for row in block])
        frame.insert(0, "subject_id", np.fromiter((row[1] for row in block), dtype=np.int64, count=len(block)))
        frame.insert(0, "record_id", np.fromiter((row[0] for row in block), dtype=np.int64, count=len(block)))
        periods = pd.Series([row[4].strftime("%Y-%m") if row[4] is not None else NO_PERIOD for row in block])
        for period, piece in frame.groupby(periods, sort=True):
            files.append(_write_file(folder, source, period, f"batch-{batch_id}-{part}.parquet", piece, schema))
        part += 1


def _write_file(folder, source, period, name, frame, schema):
    relative = Path(f"source={source.name}") / f"period={period}" / name
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = frame.sort_values(["subject_id", "record_id"], kind="stable")
    arrow = pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
    pq.write_table(arrow, path, row_group_size=ROW_GROUP)
    return {"path": relative.as_posix(), "rows": len(frame), "sha256": file_sha256(path)}


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


def _read_source(folder, source, manifest, subject_range):
    paths = [str(folder / f["path"]) for batch in manifest["batches"].values() if batch["source"] == source.name
             for f in batch["files"]]
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
