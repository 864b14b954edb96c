"""Reading department exports: CSV in UTF-8 (with or without BOM) or GBK, and Excel.

An Excel workbook is a zip of XML: before it is parsed, its declared expansion is held to the
settings (MAX_XLSX_UNZIPPED_BYTES, MAX_ZIP_RATIO), and openpyxl parses its XML with defusedxml
(installed: openpyxl uses it by itself), which refuses entity declarations and external references.
"""
import codecs
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from defusedxml import DefusedXmlException
from flask import current_app, has_app_context

from app.config import Config

from .archives import too_expansive

# Tried in this order; gb18030 is a superset of GBK and GB2312.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".txt")
_NA = float("nan")  # how a str column holds a missing cell


class UnreadableExport(Exception):
    """A file that cannot be read as the declared export; `message` says why, in Chinese."""

    def __init__(self, message, message_en):
        super().__init__(message)
        self.message = message
        self.message_en = message_en


@dataclass
class Export:
    """The cells of one export as text (missing cells are NA), with how it was read."""

    frame: pd.DataFrame
    encoding: str
    ignored_columns: list

    @property
    def row_numbers(self):
        """The line of each row in the file (the header is line 1)."""
        return self.frame.index + 2


def _normalise_header(text):
    return unicodedata.normalize("NFKC", str(text)).strip().replace(" ", "")


def workbook_limits():
    """(bytes, ratio): how far an Excel workbook may expand, from the app's settings (else the defaults)."""
    settings = current_app.config if has_app_context() else Config.settings()
    return settings["MAX_XLSX_UNZIPPED_BYTES"], settings["MAX_ZIP_RATIO"]


def _check_workbook(path, limits):
    """Refuse a workbook that would expand too much, reading only its zip directory."""
    try:
        with zipfile.ZipFile(path) as workbook:
            members = workbook.infolist()
    except (zipfile.BadZipFile, OSError):
        return  # no zip at all: the reader below says the workbook cannot be read
    if too_expansive(members, *limits):
        raise UnreadableExport("Excel 文件解压后过大或压缩比异常（疑似压缩炸弹），已拒收；大批数据请以 CSV 报送",
                               "the Excel file expands too much (a zip bomb?) and was refused; send large "
                               "exports as CSV")


def _defused(error):
    """Whether defusedxml refused the XML behind `error` (openpyxl wraps what its parser raises)."""
    while error is not None:
        if isinstance(error, DefusedXmlException):
            return True
        error = error.__cause__ or error.__context__
    return False


def _read_raw(path, limits):
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        _check_workbook(path, limits or workbook_limits())
        try:
            return pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl"), "xlsx"
        except Exception as error:  # openpyxl raises many kinds for a damaged workbook
            if _defused(error):
                raise UnreadableExport("Excel 文件含有不安全的 XML 内容（实体声明或外部引用），已拒收",
                                       "the Excel file holds unsafe XML (entity declarations or external "
                                       "references) and was refused") from None
            raise UnreadableExport(f"无法读取 Excel 文件：{error}", f"cannot read the Excel file: {error}") from None
    if suffix not in CSV_SUFFIXES:
        raise UnreadableExport(f"不支持的文件类型 {suffix}（只接受 CSV 或 Excel）",
                               f"unsupported file type {suffix} (CSV or Excel only)")
    for encoding in CSV_ENCODINGS:
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding), encoding
        except UnicodeDecodeError:
            continue
        except pd.errors.ParserError as error:
            raise UnreadableExport(f"CSV 格式错误：{error}", f"malformed CSV: {error}") from None
        except pd.errors.EmptyDataError:
            raise UnreadableExport("文件为空", "the file is empty") from None
    raise UnreadableExport("无法识别文件编码（应为 UTF-8 或 GBK）", "unknown encoding (expected UTF-8 or GBK)")


def read_export(path, source, limits=None):
    """Read `path` as an export of `source`; refuse it when a declared column is missing, or when it is
    a workbook expanding beyond `limits` ((bytes, ratio); by default the app's settings)."""
    frame, encoding = _read_raw(Path(path), limits)
    return _declared(frame, encoding, source)


def read_export_chunks(path, source, rows, limits=None):
    """Read `path` as exports of at most `rows` rows each, one after another: a large CSV export in
    flat memory. Row numbers go on across chunks; an Excel workbook (bounded by its limits) comes whole.
    """
    path = Path(path)
    if path.suffix.lower() not in CSV_SUFFIXES:
        yield read_export(path, source, limits)
        return
    encoding = _csv_encoding(path)
    try:
        with pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding, chunksize=rows) as reader:
            for frame in reader:
                yield _declared(frame, encoding, source)
    except pd.errors.ParserError as error:
        raise UnreadableExport(f"CSV 格式错误：{error}", f"malformed CSV: {error}") from None
    except pd.errors.EmptyDataError:
        raise UnreadableExport("文件为空", "the file is empty") from None


def _csv_encoding(path, block=1 << 20):
    """The first of CSV_ENCODINGS that decodes the whole file (read a block at a time)."""
    for encoding in CSV_ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with open(path, "rb") as f:
                while chunk := f.read(block):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    raise UnreadableExport("无法识别文件编码（应为 UTF-8 或 GBK）", "unknown encoding (expected UTF-8 or GBK)")


def _declared(frame, encoding, source):
    """The declared columns of a read export, named as the source names them, cells stripped."""
    frame.columns = [_normalise_header(c) for c in frame.columns]
    declared = [_normalise_header(c.header) for c in source.columns]
    missing = [h for h in declared if h not in frame.columns]
    if missing:
        raise UnreadableExport(f"缺少列：{'、'.join(missing)}", f"missing columns: {', '.join(missing)}")
    ignored = [c for c in frame.columns if c not in declared]
    frame = frame[declared]  # a new frame (copy-on-write): every column is replaced below
    frame.columns = [c.name for c in source.columns]
    for name in frame.columns:
        frame[name] = _stripped(frame[name])
    return Export(frame=frame, encoding=encoding, ignored_columns=ignored)


def _stripped(column):
    """The cells without surrounding white space; empty cells become NA."""
    values = column.to_numpy(dtype=object)
    cells = np.empty(len(values), dtype=object)
    # A list comprehension is much faster than `.str.strip()` on Python-backed strings; a CSV
    # read with keep_default_na=False has no missing cells, so try without checking each type.
    try:
        cells[:] = [v.strip() or _NA for v in values]
    except AttributeError:
        cells[:] = [(v.strip() or _NA) if isinstance(v, str) else v for v in values]
    return pd.Series(cells, index=column.index, name=column.name, dtype=column.dtype)
