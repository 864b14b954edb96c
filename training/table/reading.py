"""Open a bank's CSV export as text: UTF-8 (with or without BOM) or GB18030/GBK, any common delimiter."""
import pandas as pd

ENCODINGS = ("utf-8-sig", "gb18030")
DELIMITERS = (",", "\t", ";", "|")
HEAD_BYTES = 1 << 16


class BookError(Exception):
    """A book that cannot be trained on, with the reason in Chinese and in English."""

    def __init__(self, zh, en):
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en


def _head_text(path):
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    for encoding in ENCODINGS:
        try:
            return head.decode(encoding), encoding
        except UnicodeDecodeError as error:
            if len(head) == HEAD_BYTES and error.start >= len(head) - 4:  # a character cut by the sample's end
                return head[: error.start].decode(encoding), encoding
    return head.decode("latin-1"), "latin-1"


def _delimiter(text):
    header = text.splitlines()[0] if text else ""
    return max(DELIMITERS, key=header.count)


def read_table(path):
    """Every cell of the CSV at `path` as stripped-header text; returns (frame, encoding, delimiter)."""
    try:
        head, encoding = _head_text(path)
    except OSError as error:
        raise BookError(f"无法打开文件 {path}：{error.strerror}", f"cannot open {path}: {error.strerror}") from error
    delimiter = _delimiter(head)
    tried = [encoding, *[e for e in ENCODINGS if e != encoding]]
    for attempt in tried:
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding=attempt,
                                sep=delimiter, skipinitialspace=False)
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
            raise BookError(f"无法读取 CSV：{error}", f"cannot read the CSV: {error}") from error
        frame.columns = [str(name).strip() for name in frame.columns]
        return frame, attempt, delimiter
    raise BookError("文件编码无法识别（已尝试 UTF-8 与 GB18030）", "unknown encoding (tried UTF-8 and GB18030)")
