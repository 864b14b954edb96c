"""Loading one department export: validate, type, compare with what is stored, write, report."""
import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from app.entities import SourceBatch
from app.entities.base import utcnow

from . import registration, storing
from .reading import UnreadableExport, read_export
from .sources import source_for_file
from .validation import REASONS, check_digit_failures, find_rejects, normalise_cells, typed_frame


@dataclass
class FileResult:
    """What loading one file did; `status` is loaded, already_loaded, refused or unknown_file."""

    file: str
    source: str | None
    status: str
    batch_id: int | None = None
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    rejected: int = 0
    warnings: int = 0
    reject_file: str | None = None
    message: str | None = None
    message_en: str | None = None
    reject_reasons: dict = field(default_factory=dict)

    def as_json(self):
        """The result as a JSON-ready dict."""
        return asdict(self)


def file_sha256(path):
    """The sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class LoadContext:
    """What loading needs beside the file: the district's towns, the subject index, where rejects go."""

    towns: frozenset
    subjects: dict
    reject_dir: Path
    uploaded_by_id: int | None = None


def load_file(session, path, context):
    """Stage one export's rows and its batch record; the caller commits (all or nothing per file)."""
    path = Path(path)
    source = source_for_file(path.name)
    if source is None:
        return FileResult(path.name, None, "unknown_file", message="文件名不对应任何已登记的数据来源",
                          message_en="the file name matches no declared source")
    digest = file_sha256(path)
    previous = session.scalar(select(SourceBatch).where(
        SourceBatch.source == source.name, SourceBatch.file_sha256 == digest, SourceBatch.status == "loaded"))
    if previous is not None:
        return _already_loaded(path, source, previous)
    try:
        export = read_export(path, source)
    except UnreadableExport as error:
        return FileResult(path.name, source.name, "refused", message=error.message, message_en=error.message_en)
    batch = SourceBatch(source=source.name, file_name=path.name, file_sha256=digest, status="loading",
                        encoding=export.encoding, uploaded_by_id=context.uploaded_by_id)
    session.add(batch)
    session.flush()
    result = FileResult(path.name, source.name, "loaded", batch_id=batch.id, rows_read=len(export.frame))
    _load_rows(session, source, export, batch, context, result)
    _finish_batch(batch, result)
    return result


def _already_loaded(path, source, previous):
    accepted = previous.rows_read - previous.rows_rejected - previous.rows_duplicate
    return FileResult(path.name, source.name, "already_loaded", batch_id=previous.id, rows_read=previous.rows_read,
                      unchanged=accepted, duplicates=previous.rows_duplicate, rejected=previous.rows_rejected,
                      reject_file=previous.reject_file, message=f"同一文件已于批次 {previous.id} 载入，未作改动",
                      message_en=f"the same file was loaded as batch {previous.id}; nothing changed")


def check_export(export, source, towns, known_codes):
    """Normalised cells, the table of rejected cells, and which codes fail their check digit.

    `known_codes` are the registered subjects' codes; rows of other sources naming any other
    subject are rejected. Registration rows are checked for kind and code shape instead.
    """
    cells = normalise_cells(export.frame)
    cells["subject_code"] = cells["subject_code"].str.upper()
    rejects = find_rejects(cells, source, towns)
    check_failed = pd.Series(False, index=cells.index)
    if source.name == "registration":
        rejects = _add_rejects(rejects, cells, registration.kind_mismatches(cells), "subject_code", "code")
        check_failed = check_digit_failures(cells["subject_code"].where(~registration.is_farmer(cells)))
    else:
        unknown = cells["subject_code"].notna() & ~cells["subject_code"].isin(pd.Index(known_codes))
        rejects = _add_rejects(rejects, cells, unknown & ~cells.index.isin(rejects["index"]), "subject_code",
                               "unregistered")
    return cells, rejects, check_failed


def _load_rows(session, source, export, batch, context, result):
    cells, rejects, check_failed = check_export(export, source, context.towns, context.subjects)
    typed = typed_frame(cells.drop(index=pd.unique(rejects["index"])), source)
    payload = _payload_frame(source, typed)
    keys = join_columns(payload[list(source.natural_key)])
    hashes = pd.util.hash_pandas_object(payload.astype(str), index=False).map("{:016x}".format)
    conflicts = _conflicting(keys, hashes)
    rejects = _add_rejects(rejects, cells, cells.index.isin(conflicts.index[conflicts]), "subject_code", "conflict")
    keep = ~conflicts & ~pd.DataFrame({"k": keys, "h": hashes}).duplicated()
    result.duplicates = int((~conflicts).sum() - keep.sum())
    changes = _classify(session, source, keys[keep], hashes[keep], result)
    write = changes["write"]
    if source.name == "registration":
        result.warnings = int(check_failed[typed.index[keep]].sum())
        context.subjects = registration.upsert_subjects(session, typed[keep][write], check_failed, context.subjects)
    rows = _record_rows(source, export, batch, context, typed[keep][write], payload[keep][write],
                        keys[keep][write], hashes[keep][write])
    storing.insert_records(session, rows)
    storing.supersede(session, source.name, batch.id, changes["replaced"])
    _write_rejects(rejects, source, batch, context, result)


def join_columns(frame, sep="|"):
    """Each row's cells as text joined by `sep` (vectorised)."""
    text = frame.fillna("").astype(str)
    if text.shape[1] == 0 or not len(text):
        return pd.Series("", index=frame.index, dtype=str)
    joined = text.iloc[:, 0]
    for name in text.columns[1:]:
        joined = joined + sep + text[name]
    return joined


def _payload_frame(source, typed):
    """Typed values as stored in JSON: dates as YYYY-MM-DD, whole numbers as integers."""
    payload = typed.copy()
    for column in source.columns:
        if column.kind in ("date", "month"):
            payload[column.name] = payload[column.name].dt.strftime("%Y-%m-%d")
        elif column.kind in ("int", "year"):
            payload[column.name] = payload[column.name].astype("Int64")
    return payload


def _add_rejects(rejects, cells, mask, field_name, reason):
    mask = pd.Series(mask, index=cells.index)
    extra = pd.DataFrame({"index": cells.index[mask], "field": field_name, "reason": reason,
                          "raw": cells.loc[mask, field_name].to_numpy()})
    return pd.concat([rejects, extra], ignore_index=True) if len(extra) else rejects


def _conflicting(keys, hashes):
    """Rows whose natural key appears in the file with different values (all such rows)."""
    if not len(keys):
        return pd.Series(False, index=keys.index)
    distinct = pd.DataFrame({"k": keys, "h": hashes}).groupby("k")["h"].transform("nunique")
    return distinct > 1


def _classify(session, source, keys, hashes, result):
    """Compare with the stored current records: new, corrected (to write) or unchanged."""
    existing = storing.current_records(session, source.name)
    stored = keys.map(lambda k: existing[k][1] if k in existing else None)
    unchanged = stored == hashes
    corrected = stored.notna() & ~unchanged
    result.unchanged, result.updated = int(unchanged.sum()), int(corrected.sum())
    result.inserted = int(stored.isna().sum())
    return {"write": ~unchanged, "replaced": {k: existing[k][0] for k in keys[corrected]}}


def _record_rows(source, export, batch, context, typed, payload, keys, hashes):
    if not len(typed):
        return []
    payloads = payload.to_json(orient="records", lines=True, force_ascii=False).splitlines()
    raw = _raw_rows(export.frame.loc[typed.index], source)
    received = utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")
    subject_ids = typed["subject_code"].map(context.subjects).astype(int).tolist()
    count = len(typed)
    return list(zip(subject_ids, [source.name] * count, keys.tolist(), _periods(source, payload), payloads,
                    hashes.tolist(), [batch.id] * count, (typed.index + 2).tolist(), raw, [received] * count,
                    strict=True))


def _periods(source, payload):
    if source.period is None:
        return [None] * len(payload)
    values = payload[source.period]
    if source.column(source.period).kind == "year":
        return [f"{int(y):04d}-01-01" for y in values]
    return values.tolist()


def _raw_rows(frame, source):
    """Each row's cells as received, comma-joined, with ID numbers masked."""
    text = frame.copy()
    for column in source.columns:
        if column.kind == "id_number":
            text[column.name] = text[column.name].str[:6] + "********" + text[column.name].str[-4:]
    return join_columns(text, ",").tolist()


def _write_rejects(rejects, source, batch, context, result):
    result.rejected = int(rejects["index"].nunique())
    if not result.rejected:
        return
    headers = {c.name: c.header for c in source.columns}
    table = pd.DataFrame({
        "行号 row": rejects["index"].astype(int) + 2,
        "字段 field": rejects["field"].map(headers),
        "原因 reason": rejects["reason"].map(lambda r: REASONS[r][0]),
        "reason_en": rejects["reason"].map(lambda r: REASONS[r][1]),
        "原始值 raw value": rejects["raw"].astype(str),
    }).sort_values("行号 row", kind="stable")
    context.reject_dir.mkdir(parents=True, exist_ok=True)
    path = context.reject_dir / f"batch-{batch.id}-{source.name}-rejects.csv"
    table.to_csv(path, index=False, encoding="utf-8-sig")
    result.reject_file = str(path)
    result.reject_reasons = {REASONS[r][0]: int(n) for r, n in rejects["reason"].value_counts().items()}


def _finish_batch(batch, result):
    batch.status = "loaded"
    batch.rows_read, batch.rows_inserted, batch.rows_updated = result.rows_read, result.inserted, result.updated
    batch.rows_unchanged, batch.rows_rejected = result.unchanged, result.rejected
    batch.rows_duplicate, batch.rows_warned = result.duplicates, result.warnings
    batch.reject_file, batch.reject_reasons = result.reject_file, result.reject_reasons
    batch.finished_at = utcnow()
