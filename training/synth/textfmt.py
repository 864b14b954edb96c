"""Turning typed column arrays into the text a department export holds, column by column."""
import numpy as np

from .timeline import TEXT

DECIMALS = {"points": 1}  # decimals of `decimal` columns; 2 unless named here
YES, NO = "是", "否"


def fixed(values, decimals):
    """Numbers with a fixed number of decimals ("1234.50"); NaN becomes an empty cell."""
    values = np.asarray(values, dtype=float)
    # Python's formatting is faster here than assembling the digits with numpy string ufuncs.
    text = np.array([f"{v:.{decimals}f}" for v in values.tolist()], dtype=TEXT)
    return np.where(np.isnan(values), "", text).astype(TEXT) if len(values) else text


def dates(values):
    """'YYYY-MM-DD', empty where the date is missing (NaT)."""
    text = np.asarray(values, dtype="datetime64[D]").astype(str).astype(TEXT)
    return np.where(text == "NaT", "", text).astype(TEXT)


def column_text(column, values, timeline):
    """The cells of one declared column."""
    kind = column.kind
    if kind == "money":
        return fixed(np.asarray(values, dtype=float) / (1e4 if column.unit == "万元" else 1), 2)
    if kind == "decimal":
        return fixed(values, DECIMALS.get(column.name, 2))
    if kind in ("int", "year"):
        return np.asarray(values).astype(np.int64).astype(TEXT)
    if kind == "month":
        return timeline.labels[np.asarray(values)]
    if kind == "date":
        return dates(values)
    if kind == "bool":
        return np.where(np.asarray(values, dtype=bool), YES, NO).astype(TEXT)
    return np.asarray(values).astype(TEXT)


def table_text(table, timeline):
    """Every declared column of the table as text, in declaration order."""
    return {c.name: column_text(c, table.columns[c.name], timeline) for c in table.schema.columns}
