"""Registration rows (市场监管) create or update the credit subjects themselves."""
import re

import pandas as pd
from sqlalchemy import insert, select, update

from app.entities import CreditSubject

from .validation import USCC_SHAPE

_HOUSEHOLD = re.compile(r"^\d{18}$")
SUBJECT_FIELDS = ("kind", "name", "town_code", "industry_code", "established_on", "registered_capital",
                  "size_class", "status", "legal_rep_name")


def subject_index(session):
    """Every subject's code (USCC or household code) → subject id."""
    rows = session.execute(select(CreditSubject.uscc, CreditSubject.household_id, CreditSubject.id))
    return {uscc or household: subject_id for uscc, household, subject_id in rows}


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


def _clean(value):
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value


def _subject_values(row, check_failed):
    values = {name: _clean(row[name]) for name in SUBJECT_FIELDS}
    values["legal_rep_id_masked"] = _clean(row["legal_rep_id"])
    code = row["subject_code"]
    values["uscc"] = None if values["kind"] == "farmer" else code
    values["household_id"] = code if values["kind"] == "farmer" else None
    values["uscc_check_failed"] = bool(check_failed)
    return values


def upsert_subjects(session, typed, check_failed, index):
    """Insert new subjects and update known ones from typed registration rows; returns the new index."""
    new_rows, changed = [], []
    for position, row in zip(typed.index, typed.to_dict("records"), strict=True):
        values = _subject_values(row, check_failed.get(position, False))
        subject_id = index.get(row["subject_code"])
        if subject_id is None:
            new_rows.append(values)
        else:
            changed.append({"id": subject_id, **values})
    if new_rows:
        session.execute(insert(CreditSubject), new_rows)
    if changed:
        session.execute(update(CreditSubject), changed)
    return subject_index(session) if new_rows else index
