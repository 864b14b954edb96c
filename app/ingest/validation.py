"""Validating and typing an export's cells against its declared source (pandera checks).

Each declared column becomes a pandera column whose checks are named by reject reason, so that a
failing cell maps straight to a row number, a field, a reason and the raw value.
"""
import re
import unicodedata

import numpy as np
import pandas as pd
import pandera.pandas as pa
from stdnum.cn import uscc as uscc_std

# Reject reasons: code → (Chinese, English).
REASONS = {
    "required": ("必填项为空", "required value missing"),
    "format": ("格式不正确", "malformed value"),
    "choice": ("取值不在允许范围内", "value not allowed"),
    "range": ("数值超出允许范围", "value out of range"),
    "too_long": ("超过长度限制", "value too long"),
    "code": ("统一社会信用代码或农户编码格式不正确", "malformed credit code or household code"),
    "town": ("乡镇街道代码不属于本区", "town code not in this district"),
    "unregistered": ("信用主体未在市场监管登记数据中", "subject not in the registration data"),
    "conflict": ("同一文件内同一记录出现多次且内容不同", "same record twice in the file with different values"),
    "nul": ("含有空字符（NUL），无法保存", "contains a NUL character, which cannot be stored"),
}
CHECK_DIGIT_WARNING = "check_digit"

USCC_SHAPE = r"[0-9A-HJ-NP-RTUW-Y]{2}\d{6}[0-9A-HJ-NP-RTUW-Y]{10}"
_HOUSEHOLD_SHAPE = r"^\d{18}$"
_ID_SHAPE = r"^\d{17}[\dX]$"
_UNIT = {"元": 1, "万元": 10_000, None: 1}


def is_known(values, known):
    """Whether each value of the Series `values` is a key of `known` (a dict or set of codes), as a
    boolean Series on the same index; missing values are not known.

    One hash lookup a value: `Series.isin` on Arrow-backed strings turns every element of the value
    set into a pyarrow scalar in Python first, so a chunk checked against a million registered codes
    spent seconds there, once for every chunk of every export.
    """
    found = np.fromiter((v in known for v in values.tolist()), dtype=bool, count=len(values))
    return pd.Series(found, index=values.index, name=values.name)


def _nfkc(text):
    return unicodedata.normalize("NFKC", text).strip()


def normalise_cells(frame):
    """Full-width characters to ASCII (NFKC) and upper-case codes; NA stays NA."""
    out = frame.copy(deep=False)  # copy-on-write: only the columns changed below are copied
    for name in out.columns:
        column = out[name]
        # Only non-ASCII cells can change; most department cells are plain ASCII.
        mask = np.array([isinstance(v, str) and not v.isascii() for v in column.to_numpy(dtype=object)], dtype=bool)
        if not mask.any():
            continue
        # Non-ASCII columns are mostly a few choice labels: normalise each distinct text once, and
        # write back only the cells that change (a column of Chinese labels mostly has none).
        candidates = column[mask]
        changes = {v: normal for v in pd.unique(candidates) if (normal := _nfkc(v)) != v}
        if changes:
            changed = candidates[candidates.isin(list(changes))]
            out.loc[changed.index, name] = changed.map(changes)
    return out


# A run of white space, or white space other than one plain space (a tab, a line break).
_UNUSUAL_SPACE = re.compile(r"\s{2,}|[^\S ]")


def collapse_white_space(frame, names):
    """The cells of the columns `names` (free text) with each run of white space made one space: a
    line break written as CRLF or LF, a tab or doubled spaces are how a tool wrote the text, not what
    the department said. Columns without such runs (most) are left as they are."""
    out = frame.copy(deep=False)
    for name in names:
        values = out[name].to_numpy(dtype=object)
        texts = [v for v in values if isinstance(v, str)]
        if not _UNUSUAL_SPACE.search("\x00".join(texts)):  # one scan of the column, no Python call per cell
            continue
        changes = {v: " ".join(v.split()) for v in set(texts) if _UNUSUAL_SPACE.search(v)}
        column = out[name]
        changed = column[column.isin(list(changes))]
        out.loc[changed.index, name] = changed.map(changes)
    return out


def parse_column(series, column):
    """The typed values of one column (NaN/NaT where a cell does not parse).

    Numbers are always float64, whatever the cells: a value's text (hashed for idempotency, stored
    in JSON) must not depend on the other rows of its file.
    """
    kind = column.kind
    if kind in ("money", "decimal", "int", "year"):
        numbers = _to_number(series)
        if kind == "money":
            return (numbers * _UNIT[column.unit]).round(2)
        if kind in ("int", "year"):
            return numbers.where(numbers.isna() | (numbers == np.floor(numbers)))
        return numbers
    if kind == "date":
        return pd.to_datetime(series, format="%Y-%m-%d", errors="coerce")
    if kind == "month":
        return pd.to_datetime(series, format="%Y-%m", errors="coerce")
    if kind in ("choice", "bool"):
        return series.map(column.choices)
    return series


def _to_number(series):
    """Numbers (float64) from text with thousands separators; NaN where a cell is not a number."""
    cells = np.empty(len(series), dtype=object)
    # A list comprehension is several times faster than `.str.replace` on Python-backed strings.
    cells[:] = [v.replace(",", "") if isinstance(v, str) else v for v in series.to_numpy(dtype=object)]
    numbers = pd.to_numeric(cells, errors="coerce").astype(np.float64, copy=False)
    return pd.Series(numbers, index=series.index, name=series.name)


class ParsedColumns:
    """Each column's parsed values, kept while one frame is validated and then typed: one parse.

    pandera hands each check the column without its missing cells; two checks of a column (format,
    range) and the typing of the valid rows afterwards all use the values parsed for the first.
    """

    def __init__(self):
        self.kept = {}

    def __call__(self, series, column):
        index, values = self.kept.get(column.name, (None, None))
        if index is None or not index.equals(series.index):
            values = parse_column(series, column)
            self.kept[column.name] = (series.index, values)
        return values

    def typed(self, series, column):
        """The parsed values of `series`, rows of the validated frame: kept ones when there are."""
        index, values = self.kept.get(column.name, (None, None))
        if index is None:
            return parse_column(series, column)
        if index.equals(series.index):
            return values
        # Cells missing in the validated column are missing here too (NaN/NaT, as a parse gives).
        return values.reindex(series.index)


def _bounds_ok(column, parse=parse_column):
    low = column.minimum
    high = column.maximum if column.maximum is not None else (2100 if column.kind == "year" else None)
    if column.kind == "year":
        low = 1900

    def check(series):
        values = parse(series, column)
        ok = values.isna()
        inside = pd.Series(True, index=series.index)
        if low is not None:
            inside &= values >= low
        if high is not None:
            inside &= values <= high
        return ok | inside

    return check


def _member_check(allowed, reason):
    return pa.Check(lambda s: s.isin(allowed), name=reason)


def _shape_check(pattern):
    """A check that each cell matches `pattern` whole, matched once per distinct cell (a subject's
    code recurs in every month of a monthly export)."""
    regex = re.compile(pattern)

    def check(series):
        codes, distinct = pd.factorize(series.to_numpy(dtype=object))
        # One more entry, False, for the code -1 of a missing cell.
        ok = np.array([isinstance(v, str) and regex.fullmatch(v) is not None for v in distinct] + [False])
        return pd.Series(ok[codes], index=series.index)

    return check


def _checks(column, towns, parse=parse_column):
    kind = column.kind
    checks = []
    if kind in ("money", "decimal", "int", "year", "date", "month"):
        checks.append(pa.Check(lambda s, c=column: parse(s, c).notna(), name="format"))
    if kind in ("money", "decimal", "int", "year"):
        checks.append(pa.Check(_bounds_ok(column, parse), name="range"))
    if kind in ("choice", "bool"):
        checks.append(_member_check(list(column.choices), "choice"))
    if kind == "town":
        checks.append(_member_check(sorted(towns), "town"))
    if kind == "code":
        checks.append(pa.Check(_shape_check(f"(?:{USCC_SHAPE}|{_HOUSEHOLD_SHAPE[1:-1]})"), name="code"))
    if kind == "id_number":
        checks.append(pa.Check(_shape_check(_ID_SHAPE[1:-1]), name="format"))
    if kind == "text":
        checks.append(pa.Check(lambda s, n=column.max_len: s.str.len() <= n, name="too_long"))
    return checks


def schema_for(source, towns, parse=parse_column):
    """The pandera schema of a source's cells (as text, after normalisation)."""
    columns = {c.name: pa.Column(None, nullable=not c.required, checks=_checks(c, towns, parse), required=True)
               for c in source.columns}
    return pa.DataFrameSchema(columns, name=source.name)


def find_rejects(frame, source, towns, parsed=None):
    """A table of failing cells: index, field, reason code, raw value (empty when all pass).

    `parsed` (a ParsedColumns), when given, keeps the values parsed by the checks for typing.
    """
    try:
        # inplace: nothing is coerced, so pandera need not copy the frame first.
        schema_for(source, towns, parsed or ParsedColumns()).validate(frame, lazy=True, inplace=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        cases = cases[cases["index"].notna()]
        reason = cases["check"].where(cases["check"] != "not_nullable", "required")
        return pd.DataFrame({"index": cases["index"].astype(int).to_numpy(), "field": cases["column"].to_numpy(),
                             "reason": reason.to_numpy(), "raw": cases["failure_case"].to_numpy()})
    return pd.DataFrame(columns=["index", "field", "reason", "raw"])


def nul_cells(frame):
    """(column, mask) for each column with cells holding a NUL character (PostgreSQL text cannot)."""
    found = []
    for name in frame.columns:
        column = frame[name]
        if not pd.api.types.is_string_dtype(column.dtype):
            continue
        mask = column.str.contains("\x00", regex=False, na=False).to_numpy(dtype=bool)
        if mask.any():
            found.append((name, mask))
    return found


def check_digit_failures(codes):
    """Which USCC-shaped codes fail their check character (evaluated once per code); pass USCCs only."""
    unique = pd.unique(codes.dropna())
    bad = {c for c in unique if re.fullmatch(USCC_SHAPE, c) and not uscc_std.is_valid(c)}
    return codes.isin(bad)


def mask_id_numbers(series):
    """Keep only the region prefix and the last four characters of an ID number."""
    return series.where(series.isna(), series.str[:6] + "********" + series.str[-4:])


def typed_frame(frame, source, parsed=None):
    """The typed values of valid rows, money in 元, months as their first day.

    `parsed`: the ParsedColumns that validated these rows (or more), so that nothing is parsed twice.
    """
    out = pd.DataFrame(index=frame.index)
    for column in source.columns:
        values = parse_column(frame[column.name], column) if parsed is None else parsed.typed(
            frame[column.name], column)
        if column.kind == "id_number":
            values = mask_id_numbers(values)
        out[column.name] = values
    return out
