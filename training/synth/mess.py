"""The small, deliberate mess of real exports: odd number formats, duplicates and invalid rows.

Full-width digits and thousands separators are cosmetic (a loader should read them); duplicated
rows repeat a row exactly; invalid rows break one rule of the declared schema each, and every
invalid or duplicated row is listed in `_truth/defects.csv` with its file and line.
"""
import numpy as np

from app.common.codes import make_uscc

from . import identity
from .identity import USCC_ALPHABET

FULLWIDTH_SHARE = 0.002  # of numeric and code cells
THOUSANDS_SHARE = 0.01  # of money cells of 1,000 or more
DUPLICATE_SHARE = 0.005
INVALID_SHARE = 0.003
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
BAD_CHOICE = {"severity": "较重", "grade": "A+", "utility": "热力", "provenance": "第三方", "role": "申请人",
              "kind": "外资企业", "institution_kind": "信托公司", "decision": "待定", "outcome": "展期"}
_NUMERIC = ("money", "int", "decimal")


def _thousands(rng, table, text):
    for column in table.schema.columns:
        if column.kind != "money":
            continue
        values = np.asarray(table.columns[column.name], dtype=float) / (1e4 if column.unit == "万元" else 1)
        pick = np.flatnonzero((rng.random(len(values)) < THOUSANDS_SHARE) & (values >= 1000))
        text[column.name][pick] = [f"{v:,.2f}" for v in values[pick]]


def _fullwidth(rng, table, text):
    for column in table.schema.columns:
        if column.kind in (*_NUMERIC, "code", "id_number", "year"):
            cells = text[column.name]
            pick = np.flatnonzero(rng.random(len(cells)) < FULLWIDTH_SHARE)
            cells[pick] = np.strings.translate(cells[pick], FULLWIDTH)


def _wrong_check(rng, code):
    if not (len(code) == 18 and code[:2] in ("91", "92", "93")):
        return None
    shift = 1 + int(rng.integers(0, len(USCC_ALPHABET) - 1))
    return code[:17] + USCC_ALPHABET[(USCC_ALPHABET.index(code[17]) + shift) % len(USCC_ALPHABET)]


def _unregistered(rng, code, region_code):
    if code[:2] in ("91", "92", "93"):
        return make_uscc(code[:2], region_code, identity.unregistered_bodies(rng, 1)[0])
    return identity.unregistered_households(rng, [code[:9]])[0]


def _break(rng, kind, row, schema, text, region_code):
    """Make one cell of `row` invalid in the way `kind` names; False when it does not apply."""
    code = schema.subject_column.name
    required = [c for c in schema.columns if c.required]
    if kind == "wrong_check":
        target, value = code, _wrong_check(rng, str(text[code][row]))
    elif kind == "unregistered_subject":
        target, value = code, _unregistered(rng, str(text[code][row]), region_code)
    elif kind in ("bad_month", "bad_date"):
        target = next(c.name for c in required if c.kind == kind[4:])
        value = str(text[target][row])[:4] + ("-13" if kind == "bad_month" else "-02-30")
    elif kind == "negative":
        target = next(c.name for c in required if c.kind in _NUMERIC)
        value = str(text[target][row])
        value = "-" + (value if float(value or 0) else "1")
    elif kind == "blank":
        target, value = required[int(rng.integers(0, len(required)))].name, ""
    else:
        column = next(c for c in required if c.kind in ("choice", "bool"))
        target, value = column.name, BAD_CHOICE.get(column.name, "不详" if column.kind == "bool" else "其他")
    if value is None:
        return False
    text[target][row] = value
    return True


def _invalid_kinds(schema):
    kinds = {c.kind for c in schema.columns if c.required}
    options = ["wrong_check", "unregistered_subject", "blank"]
    options += ["bad_month"] * ("month" in kinds) + ["bad_date"] * ("date" in kinds)
    options += ["negative"] * bool(kinds & set(_NUMERIC))
    options += ["bad_choice"] * bool(kinds & {"choice", "bool"})
    return options


def _invalid(rng, table, text, region_code):
    """Break about INVALID_SHARE of the rows; the kind of each broken row ('' where intact)."""
    n = len(table)
    broken = np.full(n, "", dtype=object)
    options = _invalid_kinds(table.schema)
    for row in np.flatnonzero(rng.random(n) < INVALID_SHARE):
        kind = options[int(rng.integers(0, len(options)))]
        if not _break(rng, kind, row, table.schema, text, region_code):
            kind = "blank"
            _break(rng, kind, row, table.schema, text, region_code)
        broken[row] = kind
    return broken


def add_mess(rng, table, text, region_code, invalid=True):
    """The messy text (rows in output order), each output row's defect, and the source row of each."""
    broken = _invalid(rng, table, text, region_code) if invalid else np.full(len(table), "", dtype=object)
    _thousands(rng, table, text)
    _fullwidth(rng, table, text)
    n = len(table)
    copies = np.flatnonzero(rng.random(n) < DUPLICATE_SHARE)
    keys = np.concatenate([np.arange(n, dtype=float), rng.uniform(0, n, len(copies))])
    position = np.argsort(keys, kind="stable")
    order = np.concatenate([np.arange(n), copies])[position]
    defect = np.where((position >= n) & (broken[order] == ""), "duplicate", broken[order])
    return {name: cells[order] for name, cells in text.items()}, defect, order
