"""A correction of one stored record made on the platform (an upheld objection, an approved repair).

It takes the path of a department file: the corrected cells, as the department writes them, are
checked against the source's declaration, typed and hashed like a file's row, stored in a batch of
their own whose file name is the provenance ("objection #12", "repair #3"), and the old record is
superseded by the new one (storing.retire / supersede), so every reader of current records sees the
correction and the old version stays as history.
"""
import hashlib
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select

from app.entities import SourceBatch, SourceRecord
from app.entities.base import utcnow

from . import storing
from .loading import check_export, hex_digests, join_columns, payload_digests, payload_frame
from .reading import Export
from .sources import choice_label, column_label, get_source
from .validation import REASONS, typed_frame

# Registration corrections also change the subject's own row: they come as 市场监管's file.
UNCORRECTABLE_SOURCES = ("registration",)
UNIT_DIVISOR = {"元": 1, "万元": 10_000, None: 1}


class CorrectionRefused(Exception):
    """The correction cannot be stored; `message` / `message_en` say why, `field` names the column."""

    def __init__(self, message, message_en, field=None):
        super().__init__(message_en)
        self.message, self.message_en, self.field = message, message_en, field


@dataclass
class EditableColumn:
    """A column the handler may correct, with the stored value as the department writes it."""

    name: str
    header: str
    kind: str
    text: str
    choices: tuple = ()
    header_en: str = ""
    choices_en: tuple = ()


def _text(column, value):
    """A stored (typed) value back as the department's cell text."""
    if value is None:
        return ""
    if column.kind == "money":
        amount = float(value) / UNIT_DIVISOR[column.unit]
        return f"{amount:.6f}".rstrip("0").rstrip(".")
    if column.kind in ("choice", "bool"):
        return next((text for text, code in column.choices.items() if code == value), str(value))
    if column.kind == "month":
        return str(value)[:7]
    if column.kind in ("int", "year"):
        return str(int(value))
    return str(value)


def editable_columns(record):
    """The columns of `record` a correction may change (not its subject, not its natural key), with
    their stored values as text; empty for a source corrected by its department's file only."""
    source = get_source(record.source)
    if source.name in UNCORRECTABLE_SOURCES:
        return []
    return [EditableColumn(c.name, c.header, c.kind, _text(c, record.payload.get(c.name)), _choice_texts(c),
                           column_label(c, english=True), _choice_texts(c, english=True))
            for c in source.columns if c.kind not in ("code", "id_number") and c.name not in source.natural_key]


def _choice_texts(column, english=False):
    """The department's word for each allowed value (the first, where several mean one), or its English name."""
    words = {}
    for text, code in column.choices.items():
        words.setdefault(code, choice_label(column, code, english=True) if english else text)
    return tuple(words.values())


def correct_record(session, record, changes, provenance, subject_code, towns):
    """Stage the correction of `record` with `changes` ({column name: cell text}) as a batch named
    `provenance`; returns the new record's id. CorrectionRefused when a cell fails the source's
    checks, a column may not be changed, or nothing changes."""
    source = get_source(record.source)
    editable = {c.name for c in editable_columns(record)}
    if not editable:
        raise CorrectionRefused("市场主体登记数据请由市场监管部门报送更正文件", "registration data is corrected by "
                                "the market regulator's own file", None)
    unknown = set(changes) - editable
    if unknown:
        raise CorrectionRefused("不能更正的字段", f"columns that cannot be corrected: {', '.join(sorted(unknown))}")
    cells = {c.name: _text(c, record.payload.get(c.name)) for c in source.columns}
    cells.update({name: (text or "").strip() for name, text in changes.items()})
    cells["subject_code"] = subject_code
    frame = pd.DataFrame([{name: (text if text != "" else pd.NA) for name, text in cells.items()}],
                         dtype="string")[[c.name for c in source.columns]]
    export = Export(frame=frame, encoding="form", ignored_columns=[])
    checked, rejects, _ = check_export(export, source, towns, [subject_code])
    if len(rejects):
        first = rejects.iloc[0]
        header = source.column(first["field"]).header if first["field"] in cells else first["field"]
        zh, en = REASONS[first["reason"]]
        raise CorrectionRefused(f"{header}：{zh}", f"{header}: {en}", first["field"])
    payload = payload_frame(source, typed_frame(checked, source))
    key = join_columns(payload[list(source.natural_key)]).iloc[0]
    digest = hex_digests(payload_digests(payload), payload.index).iloc[0]
    if key != record.natural_key:
        raise CorrectionRefused("更正不能改变记录的标识", "a correction cannot change what identifies the record")
    if digest == record.payload_hash:
        raise CorrectionRefused("更正后的数据与原数据相同", "the corrected values equal the stored ones")
    return _store(session, source, record, payload, digest, cells, provenance)


def _store(session, source, record, payload, digest, cells, provenance):
    text = payload.to_json(orient="records", lines=True, force_ascii=False).strip()
    now = utcnow()
    batch = SourceBatch(source=source.name, file_name=provenance, status="loaded", received_at=now, finished_at=now,
                        file_sha256=hashlib.sha256(f"{provenance}\n{text}".encode()).hexdigest(),
                        encoding="form", rows_read=1, rows_updated=1)
    session.add(batch)
    session.flush()
    period = payload[source.period].iloc[0] if source.period else None
    if period is not None and source.column(source.period).kind == "year":
        period = f"{int(period):04d}-01-01"
    raw = ",".join(cells[c.name] for c in source.columns)
    storing.retire(session, [record.id])
    storing.insert_records(session, [(record.subject_id, source.name, record.natural_key, period, text, digest,
                                      batch.id, 2, raw, now.strftime("%Y-%m-%d %H:%M:%S.%f"))])
    storing.supersede(session, source.name, batch.id, {record.natural_key: record.id})
    session.expire(record)
    return session.connection().execute(select(SourceRecord.id).where(SourceRecord.batch_id == batch.id)).scalar_one()
