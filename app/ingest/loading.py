"""Loading one department export: validate, type, compare with what is stored, write, report."""
import csv
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from flask import current_app, has_app_context
from sqlalchemy import select

from app.common.checksums import file_sha256
from app.common.exports import mask_id_text, safe_row, write_csv
from app.config import Config
from app.entities import SourceBatch
from app.entities.base import utcnow

from . import registration, storing
from .reading import CSV_SUFFIXES, UnreadableExport, read_export, read_export_chunks
from .retention import upload_folder
from .sources import source_for_file
from .validation import (
    REASONS,
    ParsedColumns,
    check_digit_failures,
    collapse_white_space,
    find_rejects,
    is_known,
    normalise_cells,
    nul_cells,
    typed_frame,
)

REJECT_HEADER = ("行号 row", "字段 field", "原因 reason", "reason_en", "原始值 raw value")


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
    stale: int = 0  # of the unchanged: rows equal to a version since corrected, not written back
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


@dataclass
class LoadContext:
    """What loading needs beside the file: the district's towns, the subject index, where rejects go."""

    towns: frozenset
    subjects: dict
    reject_dir: Path
    uploaded_by_id: int | None = None
    upload_dir: Path | None = None  # where uploads are kept: a file from there is recorded as kept
    id_key: str | None = None  # ID_HASH_KEY: ID numbers are stored as its keyed hash too (none without it)


def load_file(session, path, context):
    """Stage one export's rows and its batch record; the caller commits (all or nothing per file)."""
    path = Path(path)
    source = source_for_file(path.name)
    if source is None:
        return FileResult(path.name, None, "unknown_file", message="文件名不对应任何已登记的数据来源",
                          message_en="the file name matches no declared source")
    digest = file_sha256(path)
    previous = _loaded_batch(session, source, digest)
    if previous is not None:
        return _already_loaded(path, source, previous)
    rows = stream_rows(path)
    try:
        chunks = read_export_chunks(path, source, rows) if rows else iter([read_export(path, source)])
        export = next(chunks)
    except UnreadableExport as error:
        return FileResult(path.name, source.name, "refused", message=error.message, message_en=error.message_en)
    # From here on, until the caller commits, no other load of this source runs: whatever it stored
    # before is seen below, and what this load stores is seen by the next one.
    storing.lock_source(session, source.name)
    previous = _loaded_batch(session, source, digest)  # the same file, loaded while this one was read
    if previous is not None:
        return _already_loaded(path, source, previous)
    if source.name == "registration":  # subjects registered by a load that finished meanwhile
        context.subjects = registration.subject_index(session)
    batch = SourceBatch(source=source.name, file_name=path.name, file_sha256=digest, status="loading",
                        encoding=export.encoding, uploaded_by_id=context.uploaded_by_id,
                        kept_file=str(path.resolve()) if upload_folder(path, context.upload_dir) else None)
    session.add(batch)
    session.flush()
    result = FileResult(path.name, source.name, "loaded", batch_id=batch.id, rows_read=len(export.frame))
    _load_rows(session, source, export, batch, context, result, streamed=bool(rows))
    for export in chunks:  # a large export, the next rows; an unreadable chunk fails the whole file
        part = FileResult(path.name, source.name, "loaded", batch_id=batch.id, rows_read=len(export.frame))
        _load_rows(session, source, export, batch, context, part, streamed=True, first=False)
        _add_counts(result, part)
    _finish_batch(batch, result)
    return result


def stream_rows(path):
    """Rows per chunk when `path` is a CSV export too large to read whole (STREAM_EXPORT_BYTES), else 0."""
    settings = current_app.config if has_app_context() else Config.settings()
    limit = settings.get("STREAM_EXPORT_BYTES", Config.STREAM_EXPORT_BYTES)
    if path.suffix.lower() not in CSV_SUFFIXES or path.stat().st_size <= limit:
        return 0
    return settings.get("STREAM_ROWS", Config.STREAM_ROWS)


COUNTED = ("rows_read", "inserted", "updated", "unchanged", "stale", "duplicates", "rejected", "warnings")


def _add_counts(result, part):
    """Add a streamed chunk's figures to its file's."""
    for name in COUNTED:
        setattr(result, name, getattr(result, name) + getattr(part, name))
    result.reject_file = result.reject_file or part.reject_file
    for reason, count in part.reject_reasons.items():
        result.reject_reasons[reason] = result.reject_reasons.get(reason, 0) + count
    result.message, result.message_en = result.message or part.message, result.message_en or part.message_en


def _loaded_batch(session, source, digest):
    return session.scalar(select(SourceBatch).where(
        SourceBatch.source == source.name, SourceBatch.file_sha256 == digest, SourceBatch.status == "loaded"))


def _already_loaded(path, source, previous):
    accepted = previous.rows_read - previous.rows_rejected - previous.rows_duplicate
    return FileResult(path.name, source.name, "already_loaded", batch_id=previous.id, rows_read=previous.rows_read,
                      unchanged=accepted, stale=previous.rows_stale, duplicates=previous.rows_duplicate,
                      rejected=previous.rows_rejected,
                      reject_file=previous.reject_file, message=f"同一文件已于批次 {previous.id} 载入，未作改动",
                      message_en=f"the same file was loaded as batch {previous.id}; nothing changed")


def check_export(export, source, towns, known_codes, parsed=None):
    """Normalised cells, the table of rejected cells, and which codes fail their check digit.

    `known_codes` are the registered subjects' codes; rows of other sources naming any other
    subject are rejected. Registration rows are checked for kind and code shape instead.
    `parsed` (a ParsedColumns), when given, keeps the values the checks parsed, for typing.
    """
    cells = collapse_white_space(normalise_cells(export.frame), [c.name for c in source.columns if c.kind == "text"])
    cells["subject_code"] = cells["subject_code"].str.upper()
    rejects = find_rejects(cells, source, towns, parsed)
    for name, mask in nul_cells(cells):
        rejects = _add_rejects(rejects, cells, mask, name, "nul")
    check_failed = pd.Series(False, index=cells.index)
    if source.name == "registration":
        rejects = _add_rejects(rejects, cells, registration.kind_mismatches(cells), "subject_code", "code")
        check_failed = check_digit_failures(cells["subject_code"].where(~registration.is_farmer(cells)))
    else:
        unknown = cells["subject_code"].notna() & ~is_known(cells["subject_code"], known_codes)
        rejects = _add_rejects(rejects, cells, unknown & ~cells.index.isin(rejects["index"]), "subject_code",
                               "unregistered")
    return cells, rejects, check_failed


def _load_rows(session, source, export, batch, context, result, streamed=False, first=True):
    """Validate, classify and stage one export's rows (or one chunk of a streamed export's)."""
    parsed = ParsedColumns()
    cells, rejects, check_failed = check_export(export, source, context.towns, context.subjects, parsed)
    typed = typed_frame(cells.drop(index=pd.unique(rejects["index"])), source, parsed)
    payload = payload_frame(source, typed)
    keys = join_columns(payload[list(source.natural_key)])
    digests = payload_digests(payload)
    hashes = hex_digests(digests, payload.index)
    conflicts, repeated = _conflicting(keys, digests)
    rejects = _add_rejects(rejects, cells, cells.index.isin(conflicts.index[conflicts]), "subject_code", "conflict")
    keep = (~conflicts & ~repeated).to_numpy()
    result.duplicates = int((~conflicts).sum() - keep.sum())
    periods = _period_range(source, typed[source.period][keep]) if source.period else None
    changes = _classify(session, source, keys[keep], hashes[keep], result, periods,
                        _key_subjects(source, typed["subject_code"][keep], context.subjects),
                        _subject_range(typed["subject_code"][keep], context.subjects) if streamed else None)
    write = keep.copy()  # the rows to store: kept, and new or corrected
    write[keep] = changes["write"].to_numpy()
    if source.name == "registration":
        result.warnings = int(check_failed[typed.index[keep]].sum())
        id_hashes = registration.id_hashes(cells["legal_rep_id"].reindex(typed.index[write]), context.id_key)
        context.subjects = registration.link_households(session, typed[write], id_hashes, context.subjects)
        context.subjects = registration.upsert_subjects(session, typed[write], check_failed, context.subjects,
                                                        id_hashes)
    rows = _record_rows(source, export, batch, context, typed[write], payload[write], keys[write], hashes[write])
    storing.retire(session, list(changes["replaced"].values()))
    storing.insert_records(session, rows)
    storing.supersede(session, source.name, batch.id, changes["replaced"])
    _write_rejects(rejects, source, batch, context, result, append=not first)


def _subject_range(codes, subjects):
    """(first, last) subject id of a chunk's rows (None when it names none): exports come sorted by
    subject, so a chunk's stored records are looked up in that range rather than in the whole file's."""
    ids = [subjects[code] for code in pd.unique(codes) if code in subjects]
    return (min(ids), max(ids)) if ids else None


def join_columns(frame, sep="|"):
    """Each row's cells as text joined by `sep` (missing cells as empty text)."""
    return pd.Series(_joined_cells(frame, sep), index=frame.index, dtype=str)


def _joined_cells(frame, sep):
    if frame.shape[1] == 0 or not len(frame):
        return [""] * len(frame)
    columns = [_cell_texts(frame.iloc[:, position]) for position in range(frame.shape[1])]
    # Joining Python lists is several times faster than adding string Series column by column.
    return [sep.join(cells) for cells in zip(*columns, strict=True)]


def _cell_texts(column):
    """A column's cells as `fillna("").astype(str)` gives them, as a list."""
    if isinstance(column.dtype, pd.StringDtype):  # text already: only missing cells change
        return column.to_numpy(dtype=object, na_value="").tolist()
    return column.fillna("").astype(str).tolist()


def payload_digests(payload):
    """Each row's 64-bit hash of its typed values as text.

    The same numbers as `pd.util.hash_pandas_object(payload.astype(str), index=False)` (stored hashes
    must not change), computed column by column with each distinct value made text and hashed once.
    """
    if not payload.shape[1]:
        return pd.util.hash_pandas_object(payload.astype(str), index=False).to_numpy()
    return _combine_hashes([_value_hashes(column) for _, column in payload.items()], len(payload))


def _value_hashes(column):
    """The hash of each cell of `column.astype(str)`, as `hash_pandas_object` makes it."""
    if isinstance(column.dtype, pd.StringDtype):  # text already
        return pd.util.hash_pandas_object(column, index=False).to_numpy()
    values = column.to_numpy()
    if column.dtype == np.float64 and np.signbit(values[values == 0]).any():
        # -0.0 would be one distinct value with 0.0, yet its text differs: text every cell instead.
        return pd.util.hash_pandas_object(column.astype(str), index=False).to_numpy()
    codes, distinct = pd.factorize(column)  # missing cells get the code -1
    if column.dtype == np.float64:
        # `astype(str)` writes a float as `str` of it, its shortest repr: made here twice as fast.
        texts = np.array(list(map(repr, distinct.tolist())), dtype=object)
    else:
        texts = pd.Series(distinct, copy=False).astype(str).to_numpy(dtype=object)
    hashes = pd.util.hash_array(texts, categorize=False)  # the distinct values' texts are distinct
    if (codes < 0).any():  # the hash of a missing cell's text, appended to be taken by the code -1
        missing = column[codes < 0].iloc[:1].astype(str)
        hashes = np.append(hashes, pd.util.hash_pandas_object(missing, index=False).to_numpy())
    return hashes[codes]


def _combine_hashes(hashes, length):
    """One hash per row from its cells' hashes, as `hash_pandas_object` combines a frame's columns
    (pandas' `combine_hash_arrays`, after CPython's tuple hash)."""
    out = np.full(length, 0x345678, dtype=np.uint64)
    mult = np.uint64(1000003)
    for position, column_hashes in enumerate(hashes):
        out ^= column_hashes
        out *= mult
        mult += np.uint64(82520 + 2 * (len(hashes) - position))
    return out + np.uint64(97531)


def hex_digests(digests, index):
    """The digests as 16 hex digits, as stored in `payload_hash`."""
    # Big-endian bytes in hex are "{:016x}" of each digest, without a Python call per row.
    text = digests.astype(">u8").tobytes().hex()
    return pd.Series([text[i:i + 16] for i in range(0, len(text), 16)], index=index, dtype=str)


def payload_frame(source, typed):
    """Typed values as stored in JSON: dates as YYYY-MM-DD, whole numbers as integers."""
    payload = typed.copy(deep=False)  # copy-on-write: only the columns replaced below are new
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


def _conflicting(keys, digests):
    """Rows whose natural key appears in the file with different values (all such rows), and rows
    repeating an earlier row exactly (same key, same values)."""
    none = pd.Series(False, index=keys.index)
    if not len(keys):
        return none, none
    # Integer codes of keys and of (key, values) pairs: much faster than grouping strings.
    key_codes, hash_codes = pd.factorize(keys)[0].astype(np.int64), pd.factorize(digests)[0]
    width = int(hash_codes.max()) + 1
    pair_codes = key_codes * width + hash_codes
    values_per_key = np.bincount(pd.unique(pair_codes) // width, minlength=int(key_codes.max()) + 1)
    return (pd.Series(values_per_key[key_codes] > 1, index=keys.index),
            pd.Series(pair_codes, index=keys.index).duplicated())


def _period_range(source, periods):
    """The first and last of the rows' typed periods when the period is part of the natural key, else
    None. A stored record of another period cannot share a key with these rows: it need not be read.
    """
    if source.period not in source.natural_key or not len(periods) or periods.isna().any():
        return None
    first, last = periods.min(), periods.max()
    if source.column(source.period).kind == "year":
        first, last = (date(int(year), 1, 1) if 1000 <= year <= 9999 else None for year in (first, last))
    else:
        first, last = first.date(), last.date()
    # Stored periods are compared as YYYY-MM-DD text on SQLite, in date order only for four-digit
    # years: anything else is simply not narrowed.
    if first is None or last is None or first.year < 1000 or last.year > 9999:
        return None
    return first, last


def _key_subjects(source, codes, subjects):
    """The ids of the registered subjects among `codes` when the subject is part of the natural key,
    else None: a stored record sharing a key with these rows belongs to one of these subjects."""
    if "subject_code" not in source.natural_key:
        return None
    return [i for i in (subjects.get(code) for code in codes.dropna().unique()) if i is not None]


def _classify(session, source, keys, hashes, result, periods=None, subject_ids=None, subject_range=None):
    """Compare with the stored current records: new, corrected (to write) or unchanged.

    A row equal to a version of its record that a correction has since replaced is stale (a file
    older than the correction, sent again): counted as unchanged, never written back over the
    correction (docs/ingestion.md).
    """
    existing = storing.current_records(session, source.name, periods, subject_ids, subject_range)
    if existing:
        stored = keys.map({key: digest for key, (_, digest) in existing.items()})
    else:
        stored = pd.Series(None, index=keys.index, dtype=object)
    unchanged = stored == hashes
    corrected = stored.notna() & ~unchanged
    stale = _stale(session, source, keys[corrected], hashes[corrected]).reindex(keys.index, fill_value=False)
    unchanged, corrected = unchanged | stale, corrected & ~stale
    result.unchanged, result.updated, result.stale = int(unchanged.sum()), int(corrected.sum()), int(stale.sum())
    result.inserted = int(stored.isna().sum())
    if result.stale:
        result.message = f"{result.stale} 行与此前已被更正的旧版本相同，保留更正后的值，未回退"
        result.message_en = (f"{result.stale} rows equal an older version since corrected: the correction is "
                             "kept, not reverted")
    return {"write": ~unchanged, "replaced": {k: existing[k][0] for k in keys[corrected]}}


def _stale(session, source, keys, hashes):
    """Which of these rows (each differing from its current record) equal a superseded version."""
    if not len(keys):
        return pd.Series(False, index=keys.index)
    earlier = storing.superseded_hashes(session, source.name, keys.tolist())
    return pd.Series([digest in earlier.get(key, ()) for key, digest in zip(keys, hashes, strict=True)],
                     index=keys.index, dtype=bool)


def _record_rows(source, export, batch, context, typed, payload, keys, hashes):
    if not len(typed):
        return []
    payloads = payload.to_json(orient="records", lines=True, force_ascii=False).splitlines()
    raw = _raw_rows(export.frame.loc[typed.index], source)
    received = utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")
    subject_ids = _subject_ids(typed["subject_code"], context.subjects)
    count = len(typed)
    return list(zip(subject_ids, [source.name] * count, keys.tolist(), _periods(source, payload), payloads,
                    hashes.tolist(), [batch.id] * count, (typed.index + 2).tolist(), raw, [received] * count,
                    strict=True))


def _subject_ids(codes, subjects):
    """The subject id of each code; every code is registered by now."""
    ids = [subjects.get(code) for code in codes.tolist()]
    if None in ids:  # fail the way the vectorised look-up does
        return codes.map(subjects).astype(int).tolist()
    return ids


def _periods(source, payload):
    if source.period is None:
        return [None] * len(payload)
    values = payload[source.period]
    if source.column(source.period).kind == "year":
        return [f"{int(y):04d}-01-01" for y in values]
    return values.tolist()


def _raw_rows(frame, source):
    """Each row's cells as received, comma-joined, with ID numbers masked."""
    text = frame.copy(deep=False)  # copy-on-write: only the masked columns are new
    for column in source.columns:
        if column.kind == "id_number":
            text[column.name] = text[column.name].str[:6] + "********" + text[column.name].str[-4:]
    return _joined_cells(text, ",")


def _write_rejects(rejects, source, batch, context, result, append=False):
    result.rejected = int(rejects["index"].nunique())
    if not result.rejected:
        return
    headers = {c.name: c.header for c in source.columns}
    id_fields = {c.name for c in source.columns if c.kind == "id_number"}
    order = np.argsort(rejects["index"].to_numpy(dtype=np.int64), kind="stable")  # by row, as found
    table = [(int(row) + 2, headers.get(name, ""), *REASONS[reason], _reported_raw(raw, name in id_fields))
             for row, name, reason, raw in rejects[["index", "field", "reason", "raw"]].to_numpy(dtype=object)[order]]
    context.reject_dir.mkdir(parents=True, exist_ok=True)
    path = context.reject_dir / f"batch-{batch.id}-{source.name}-rejects.csv"
    if append and path.exists():  # a later chunk of a streamed export: its rows after the earlier ones'
        with open(path, "a", newline="", encoding="utf-8") as f:
            csv.writer(f, lineterminator="\n").writerows(safe_row(row) for row in table)
    else:
        with open(path, "w", newline="", encoding="utf-8-sig") as f:
            write_csv(f, REJECT_HEADER, table, lineterminator="\n")
    result.reject_file = str(path)
    result.reject_reasons = {REASONS[r][0]: int(n) for r, n in rejects["reason"].value_counts().items()}


def _reported_raw(raw, is_id_number):
    """A rejected cell as the report shows it: an ID number (even a malformed one) masked."""
    if pd.isna(raw):
        return ""
    return mask_id_text(str(raw)) if is_id_number else str(raw)


def _finish_batch(batch, result):
    batch.status = "loaded"
    batch.rows_read, batch.rows_inserted, batch.rows_updated = result.rows_read, result.inserted, result.updated
    batch.rows_unchanged, batch.rows_stale, batch.rows_rejected = result.unchanged, result.stale, result.rejected
    batch.rows_duplicate, batch.rows_warned = result.duplicates, result.warnings
    batch.reject_file, batch.reject_reasons = result.reject_file, result.reject_reasons
    batch.finished_at = utcnow()
