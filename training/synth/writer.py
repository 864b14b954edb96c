"""Writing the district: department exports appended chunk by chunk, and the `_truth/` files.

Encodings follow what each department really sends: 税务 GBK (written as gb18030), 市场监管 and 社保
UTF-8 with a BOM, 纳税信用等级 as Excel, the rest plain UTF-8. Lines end with CRLF as the csv
module writes them.
"""
import re
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
from openpyxl import Workbook

from app.ingest.sources import SOURCES, get_source

from .timeline import TEXT

ENCODINGS = {"税务": "gb18030", "市场监管": "utf-8-sig", "社保": "utf-8-sig"}
EXCEL_SOURCES = ("tax_grade",)
EXCEL_MAX_ROWS = 1_048_575  # a sheet's rows below the header
EXCEL_MARGIN = 50_000  # more than one chunk adds to a workbook
TRUTH = "_truth"
TRUTH_FILES = ("loans.csv", "firms.csv", "defects.csv")
FIXED_TIME = (2000, 1, 1, 0, 0, 0)


def csv_text(columns):
    """CSV lines (CRLF) of equally long text columns; cells with a comma or quote are quoted."""
    cells = []
    for values in columns:
        values = np.asarray(values).astype(TEXT)
        special = (np.strings.find(values, ",") >= 0) | (np.strings.find(values, '"') >= 0)
        if special.any():
            values = values.copy()
            values[special] = np.strings.add(np.strings.add('"', np.strings.replace(values[special], '"', '""')),
                                             '"')
        cells.append(values)
    if not cells or not len(cells[0]):
        return ""
    line = cells[0]
    for values in cells[1:]:
        line = np.strings.add(np.strings.add(line, ","), values)
    return "\r\n".join(line.tolist()) + "\r\n"


def clear(out):
    """Remove the files an earlier run wrote into `out` (exports with a source prefix, truth files)."""
    prefixes = tuple(f"{s.file_prefix}_" for s in SOURCES)
    for path in out.glob("*"):
        if path.is_file() and path.name.startswith(prefixes) and path.suffix in (".csv", ".xlsx"):
            path.unlink()
    for name in TRUTH_FILES:
        (out / TRUTH / name).unlink(missing_ok=True)


class ExportWriter:
    """Appends rows to the export files of a district directory, one file per source and year."""

    def __init__(self, out):
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / TRUTH).mkdir(exist_ok=True)
        clear(self.out)
        self.lines = Counter()  # data rows written per file
        self.rows = Counter()  # data rows written per source
        self.books = {}

    def _append(self, name, header, text, encoding):
        path = self.out / name
        new = not path.exists()
        with path.open("ab") as handle:
            if new:
                handle.write(csv_text([[h] for h in header]).encode(encoding))
            handle.write(text.encode("utf-8" if encoding == "utf-8-sig" else encoding))

    def write(self, source_name, text, defects, name):
        """Append text columns (declared order) to file `name`; return the defects with their lines."""
        source = get_source(source_name)
        columns = [text[c.name] for c in source.columns]
        n = len(columns[0])
        first_line = self.lines[name] + 2
        if source_name in EXCEL_SOURCES:
            self._excel(name, source, columns)
        else:
            encoding = ENCODINGS.get(source.department, "utf-8")
            self._append(name, [c.header for c in source.columns], csv_text(columns), encoding)
        self.lines[name] += n
        self.rows[source_name] += n
        flagged = np.flatnonzero(defects != "")
        return [(name, first_line + int(i), str(defects[i])) for i in flagged]

    def _excel(self, name, source, columns):
        if name not in self.books:
            book = Workbook(write_only=True)
            sheet = book.create_sheet(source.title)
            sheet.append([c.header for c in source.columns])
            self.books[name] = (book, sheet)
        sheet = self.books[name][1]
        kinds = [c.kind for c in source.columns]
        for row in zip(*(col.tolist() for col in columns), strict=True):
            sheet.append([_excel_cell(value, kind) for value, kind in zip(row, kinds, strict=True)])

    def excel_name(self, stem):
        """The workbook to append to for `stem` (a new part once a sheet is full)."""
        part = 1
        while self.lines[_part(stem, part)] >= EXCEL_MAX_ROWS - EXCEL_MARGIN:
            part += 1
        return _part(stem, part)

    def append_truth(self, name, columns):
        """Append rows to a `_truth/` file (plain UTF-8 with a header)."""
        header = list(columns)
        key = f"{TRUTH}/{name}"
        self._append(key, header, csv_text([columns[h] for h in header]), "utf-8")
        self.lines[key] += len(next(iter(columns.values()))) if columns else 0

    def close(self, created):
        """Save the workbooks with fixed timestamps so that a seed always gives the same bytes."""
        for name, (book, _sheet) in self.books.items():
            book.properties.created = created
            path = self.out / name
            book.save(path)
            _freeze_zip(path, created)
        return sorted(p.name for p in self.out.iterdir() if p.is_file())


def _part(stem, part):
    return f"{stem}.xlsx" if part == 1 else f"{stem}_{part}.xlsx"


def _excel_cell(value, kind):
    """Numbers where the department's Excel would hold numbers, text elsewhere."""
    if kind in ("year", "decimal") and value and value.replace(".", "", 1).isascii() and \
            value.replace(".", "", 1).isdigit():
        return int(value) if kind == "year" else float(value)
    return value


def _freeze_zip(path, created):
    """Rewrite a workbook with fixed entry times and document dates."""
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info.filename)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for filename, data in entries:
            if filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(), data)
            target.writestr(zipfile.ZipInfo(filename, FIXED_TIME), data, zipfile.ZIP_DEFLATED)
