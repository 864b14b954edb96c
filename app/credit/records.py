"""Typed department records per source, read from export files or from the database.

Both readers return the same shape: {source name: DataFrame of typed columns with a
`subject_code` column}, corrections applied (the newest value of each natural key).
"""
import json

import pandas as pd
from sqlalchemy import Text, cast, select

from app.entities import SourceRecord
from app.ingest.loading import check_export
from app.ingest.reading import UnreadableExport, read_export
from app.ingest.runner import export_files, ordered
from app.ingest.sources import SOURCES, get_source, source_for_file
from app.ingest.validation import typed_frame

DATE_KINDS = ("date", "month")


def read_district(folder, towns):
    """The typed, valid records of every export under `folder` (as ingestion would keep them)."""
    frames, known = {}, set()
    for path in ordered(export_files(folder)):
        source = source_for_file(path.name)
        if source is None:
            continue
        try:
            export = read_export(path, source)
        except UnreadableExport:
            continue
        cells, rejects, _ = check_export(export, source, towns, known)
        typed = typed_frame(cells.drop(index=pd.unique(rejects["index"])), source)
        if source.name == "registration":
            known |= set(typed["subject_code"])
        frames.setdefault(source.name, []).append(typed)
    return {name: _latest(get_source(name), pd.concat(parts, ignore_index=True)) for name, parts in frames.items()}


def _latest(source, frame):
    """Keep the last row of each natural key: later files (corrections) supersede earlier ones."""
    return frame.drop_duplicates(subset=list(source.natural_key), keep="last").reset_index(drop=True)


def records_from_db(session, subject_ids=None, sources=None, id_range=None, penalties=None):
    """The current records of the given subjects (all when None; or ids within `id_range`, both ends
    included) from the database.

    `penalties` (a penalties.PublicityRules), when given, keeps only the penalties in force on its day
    (not repaired, still published), as scoring must; training reads the history as it was.

    The payloads are fetched as text and each source's are parsed as one JSON array: decoding
    hundreds of thousands of small documents one at a time (what the driver does with a JSON
    column) costs several times more.
    """
    names = sources or [s.name for s in SOURCES]
    query = select(SourceRecord.source, cast(SourceRecord.payload, Text)).where(
        SourceRecord.superseded_by_id.is_(None), SourceRecord.source.in_(names))
    if subject_ids is not None:
        query = query.where(SourceRecord.subject_id.in_(list(subject_ids)))
    if id_range is not None:
        query = query.where(SourceRecord.subject_id.between(*id_range))
    grouped = {}
    for source_name, payload in session.connection().execute(query):
        grouped.setdefault(source_name, []).append(payload)
    parsed = {name: json.loads(f"[{','.join(texts)}]") for name, texts in grouped.items()}
    if penalties is not None and "penalty" in parsed:
        parsed["penalty"] = penalties.used(parsed["penalty"])
    return {name: typed_payloads(get_source(name), payloads) for name, payloads in parsed.items()}


def typed_payloads(source, payloads):
    """Stored JSON payloads back to typed columns (dates as timestamps)."""
    frame = pd.DataFrame.from_records(payloads, columns=[c.name for c in source.columns])
    for column in source.columns:
        if column.kind in DATE_KINDS:
            frame[column.name] = pd.to_datetime(frame[column.name], format="%Y-%m-%d", errors="coerce")
    return frame
