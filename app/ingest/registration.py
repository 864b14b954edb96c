"""Registration rows (市场监管) create or update the credit subjects themselves."""
import re

import pandas as pd
from sqlalchemy import bindparam, insert, select, update

from app.common import idnumbers
from app.entities import CreditSubject
from app.entities.base import utcnow

from .validation import USCC_SHAPE, is_known

_HOUSEHOLD = re.compile(r"^\d{18}$")
SUBJECT_FIELDS = ("kind", "name", "town_code", "industry_code", "established_on", "registered_capital",
                  "size_class", "status", "legal_rep_name")


def subject_index(session):
    """Every subject's code (USCC or household code) → subject id."""
    table = CreditSubject.__table__
    session.flush()
    # Plain rows, all at once: the ORM's row handling costs more than the query.
    rows = session.connection().execute(select(table.c.uscc, table.c.household_id, table.c.id)).all()
    # A farmer registered by ID number has no code yet: it is found by link_households, not by code.
    return {uscc or household: subject_id for uscc, household, subject_id in rows if uscc or household}


def id_hashes(raw_ids, key):
    """The keyed hash of each row's ID number (None where the cell is empty or there is no key)."""
    if key is None:
        return pd.Series(None, index=raw_ids.index, dtype=object)
    return raw_ids.map(lambda number: idnumbers.keyed_hash(number, key), na_action="ignore").astype(object)


def link_households(session, typed, hashes, index):
    """Known subjects for farmer rows whose household code is new: a farmer registered on the platform by
    ID number (no code yet) whose head has the row's ID number. Returns the index with those codes added,
    so that the rows update the registered subject (and give it the code) instead of creating another."""
    new_farmer = (typed["kind"] == "farmer") & ~is_known(typed["subject_code"], index) & hashes.notna()
    if not new_farmer.any():
        return index
    code_of = dict(zip(hashes[new_farmer], typed["subject_code"][new_farmer], strict=True))
    table = CreditSubject.__table__
    found = session.connection().execute(select(table.c.legal_rep_id_hash, table.c.id).where(
        table.c.kind == "farmer", table.c.household_id.is_(None), table.c.uscc.is_(None),
        table.c.legal_rep_id_hash.in_(list(code_of)))).all()
    return {**index, **{code_of[digest]: subject_id for digest, subject_id in found}} if found else index


def is_farmer(cells):
    """Rows registering a farmer household (their code is a household code, not a USCC)."""
    return (cells["kind"] == "农户").fillna(False).astype(bool)


def kind_mismatches(cells):
    """Rows whose code shape contradicts their kind: farmers have household codes, others USCC.

    A USCC may be all digits, so only a farmer's code is held to the household shape.
    """
    codes = cells["subject_code"].fillna("")
    farmer = is_farmer(cells)
    bad_household = farmer & ~codes.str.fullmatch(_HOUSEHOLD.pattern).astype(bool)
    bad_uscc = ~farmer & ~codes.str.fullmatch(USCC_SHAPE).astype(bool)
    return cells["subject_code"].notna() & cells["kind"].notna() & (bad_household | bad_uscc)


def _cell_values(series):
    """A typed column as plain Python values: None where missing, dates as `date`."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = series.dt.date.astype(object)
    else:
        values = series.astype(object)
    return values.where(series.notna(), None).tolist()


def _subject_rows(typed, check_failed, hashes):
    """The credit-subject columns of typed registration rows, one dict per row."""
    values = {name: _cell_values(typed[name]) for name in SUBJECT_FIELDS}
    values["legal_rep_id_masked"] = _cell_values(typed["legal_rep_id"])
    values["legal_rep_id_hash"] = hashes.reindex(typed.index).where(lambda h: h.notna(), None).tolist()
    codes = typed["subject_code"].tolist()
    farmer = [kind == "farmer" for kind in values["kind"]]
    values["uscc"] = [None if f else code for f, code in zip(farmer, codes, strict=True)]
    values["household_id"] = [code if f else None for f, code in zip(farmer, codes, strict=True)]
    values["uscc_check_failed"] = check_failed.reindex(typed.index, fill_value=False).astype(bool).tolist()
    names = list(values)
    return codes, [dict(zip(names, row, strict=True)) for row in zip(*values.values(), strict=True)]


def upsert_subjects(session, typed, check_failed, index, hashes):
    """Insert new subjects and update known ones from typed registration rows; returns the new index.

    `hashes`: the keyed hash of each row's legal representative's ID number (id_hashes).

    Core statements with every column in every row: one executemany each (the ORM's bulk insert
    splits the rows into a statement per pattern of missing values).
    """
    codes, rows = _subject_rows(typed, check_failed, hashes)
    new_rows, changed = [], []
    created_at = utcnow()  # one time for the batch, instead of the column default called per row
    for code, values in zip(codes, rows, strict=True):
        subject_id = index.get(code)
        if subject_id is None:
            new_rows.append({**values, "created_at": created_at})
        else:
            changed.append({"subject_id": subject_id, **values})
    table = CreditSubject.__table__
    connection = session.connection()
    if new_rows:
        connection.execute(insert(table), new_rows)
    if changed:
        names = [name for name in changed[0] if name != "subject_id"]
        statement = (update(table).where(table.c.id == bindparam("subject_id"))
                     .values({name: bindparam(name) for name in names}))
        connection.execute(statement, changed)
    return subject_index(session) if new_rows else index
