"""A table of figures (headers and rows) for download, as CSV or Excel, through the one safe writer
(app/common/exports.py: formula cells neutralised, ID numbers masked, numbers kept as numbers)."""
from . import exports

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def encode(fmt, headers, rows, title):
    """(bytes, mimetype) of the table in `fmt` ("csv" or "xlsx")."""
    if fmt == "csv":
        body = exports.csv_text(headers, rows).encode("utf-8")
    else:
        body = exports.xlsx_bytes(headers, rows, sheet_title=title)
    return body, FORMATS[fmt]
