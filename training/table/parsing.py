"""Read one exported column of text into numbers: money, percentages, flags, dates or categories.

Every parser works on the column's distinct values (`pd.factorize`) and maps the result back, so a
million-row column with a few thousand distinct cells is parsed a few thousand times, not a million.
A column's spec is a plain dict (JSON-safe): inference writes it once, and training and scoring both
parse with it.
"""
import re

import numpy as np
import pandas as pd

MISSING_CODES = frozenset({"", "na", "n/a", "n.a.", "#n/a", "null", "none", "nan", "nat", "-", "--", "?", "无", "空",
                           "缺失", "不详"})
TRUE_WORDS = frozenset({"y", "yes", "true", "t", "是", "1"})
FALSE_WORDS = frozenset({"n", "no", "false", "f", "否", "0"})
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%d-%b-%y", "%d-%b-%Y", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y",
                "%Y.%m.%d", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y年%m月%d日",
                "%d %b %Y", "%b %d, %Y", "%Y-%m", "%Y/%m", "%Y年%m月")
SHARE_TO_ACCEPT = 0.95
SCREEN_SAMPLE = 300
WIDE = str.maketrans("０１２３４５６７８９，．－％（）＄", "0123456789,.-%()$")
CURRENCY_TOKENS = ("%", "万", "亿", "rmb", "cny", "usd", "hkd", "eur", "gbp", "$", "¥", "￥", "€", "£", "₹", "元", ",",
                   "'", " ", "\u00a0")
NOTE_SAMPLE = 5000
_EIGHT_DIGITS = re.compile(r"^\d{8}$")
_EPOCH = pd.Timestamp("1970-01-01")


def distinct(column):
    """The column's row codes (-1 for missing) and its distinct stripped, non-missing cells."""
    codes, uniques = pd.factorize(pd.Series(column, copy=False).astype("str"), use_na_sentinel=True)
    cleaned = pd.Index(uniques, dtype="str").str.strip()
    cleaned = cleaned.where(~(cleaned.str.lower().isin(MISSING_CODES) | cleaned.isna()))
    remap, kept = pd.factorize(cleaned, use_na_sentinel=True)  # "Y" and "Y " are one value once stripped
    codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1) if len(remap) else np.full(len(codes), -1)
    return codes, pd.Index(kept, dtype="str")


def counts_of(codes, n_uniques):
    """How many rows hold each distinct value."""
    return np.bincount(codes[codes >= 0], minlength=n_uniques)


def _has_wide_characters(text):
    """Which cells hold a full-width character (U+FF01–U+FF5E), read from the raw code points."""
    if text.size == 0 or text.dtype.itemsize == 0:
        return np.zeros(text.shape, dtype=bool)
    points = text.view(np.uint32).reshape(len(text), -1)
    return ((points >= 0xFF01) & (points <= 0xFF5E)).any(axis=1)


def _without(text, tokens):
    for token in tokens:
        if (np.strings.find(text, token) >= 0).any():
            text = np.strings.replace(text, token, "")
    return text


def number_values(uniques):
    """Parse money, percentages and plain numbers; NaN where a cell is not a number."""
    text = np.asarray(uniques, dtype="U")
    wide = _has_wide_characters(text)
    if wide.any():
        text[wide] = np.char.translate(text[wide], WIDE)
    text = np.strings.strip(np.strings.lower(text))
    percent = np.strings.endswith(text, "%")
    scale = np.where(np.strings.endswith(text, "万") | np.strings.endswith(text, "万元"), 1e4, 1.0)
    scale *= np.where(np.strings.endswith(text, "亿") | np.strings.endswith(text, "亿元"), 1e8, 1.0)
    text = np.strings.strip(_without(text, CURRENCY_TOKENS))
    negative = np.strings.startswith(text, "(") & np.strings.endswith(text, ")")
    text = np.strings.strip(text, "()")
    try:
        values = text.astype(float)
    except ValueError:
        values = pd.to_numeric(pd.Series(text.astype(object)), errors="coerce").to_numpy(dtype=float)
    values = np.where(np.isfinite(values), values, np.nan) * scale / np.where(percent, 100.0, 1.0)
    return np.where(negative, -values, values)


def number_notes(uniques):
    """Say what cleaning a number column needed: symbols, separators, percent, 万/亿, brackets."""
    text = pd.Index(uniques[:NOTE_SAMPLE], dtype="str")
    checks = (("currency symbols", r"(?i)rmb|cny|usd|hkd|eur|gbp|[$¥￥€£₹元]"), ("thousands separators", r"\d[,，]\d"),
              ("percent → fraction", "[%％]"), ("万/亿 multipliers", "[万亿]"), ("(brackets) as negative", r"^\s*\("),
              ("full-width digits", "[０-９]"))
    notes = [name for name, pattern in checks if text.str.contains(pattern, regex=True).any()]
    return ", ".join(notes) if notes else "plain numbers"


def flag_values(uniques):
    """Map yes/no words to 1/0; NaN for anything else."""
    words = pd.Index(uniques, dtype="str").str.lower()
    values = np.full(len(words), np.nan)
    values[np.asarray(words.isin(TRUE_WORDS), dtype=bool)] = 1.0
    values[np.asarray(words.isin(FALSE_WORDS), dtype=bool)] = 0.0
    return values


def date_values(uniques, formats):
    """Parse dates written in any of `formats` (tried in order) into days since 1970-01-01; NaN otherwise."""
    text = pd.Series(pd.Index(uniques, dtype="str"))
    stamps = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    for fmt in formats:
        todo = stamps.isna()
        if not todo.any():
            break
        stamps[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce").astype("datetime64[us]")
    years = stamps.dt.year
    stamps = stamps.where((years >= 1900) & (years <= 2100))
    return ((stamps - _EPOCH) / pd.Timedelta(days=1)).to_numpy(dtype=float)


def _parsed_share(values, counts):
    total = counts.sum()
    return float(counts[~np.isnan(values)].sum() / total) if total else 0.0


def date_formats(sample, weights, most=3):
    """The date formats that together read the most of a sample (greedy, at most `most`), with the share read."""
    reads = {fmt: ~np.isnan(date_values(sample, [fmt])) for fmt in DATE_FORMATS}
    chosen, read = [], np.zeros(len(sample), dtype=bool)
    while len(chosen) < most and weights[read].sum() < SHARE_TO_ACCEPT * weights.sum():
        gain, fmt = max(((weights[~read & hits].sum(), fmt) for fmt, hits in reads.items()), key=lambda pair: pair[0])
        if gain == 0:
            break
        chosen.append(fmt)
        read |= reads[fmt]
    return chosen, float(weights[read].sum() / max(weights.sum(), 1))


def _is_flag(uniques):
    if len(uniques) > len(TRUE_WORDS | FALSE_WORDS):
        return False
    words = set(pd.Index(uniques, dtype="str").str.lower())
    return bool(words) and words <= (TRUE_WORDS | FALSE_WORDS) and not all(w.isdigit() for w in words)


def _dropped(counts, values):
    unread = int(counts[np.isnan(values)].sum())
    return f"; {unread} unreadable cells treated as missing" if unread else ""


def _top(uniques, counts, size=SCREEN_SAMPLE):
    order = np.argsort(-counts, kind="stable")[:size]
    return uniques[order], counts[order]


def _as_number(uniques, counts):
    sample, weights = _top(uniques, counts)
    if _parsed_share(number_values(sample), weights) < SHARE_TO_ACCEPT:
        return None
    values = number_values(uniques)
    if _parsed_share(values, counts) < SHARE_TO_ACCEPT:
        return None
    whole = np.nan_to_num(values)
    return {"type": "number", "integer": bool(np.all(whole == np.round(whole))),
            "how": f"number ({number_notes(uniques)})" + _dropped(counts, values)}


def _as_date(uniques, counts):
    if bool(uniques.str.match(_EIGHT_DIGITS).all()):
        formats = ["%Y%m%d"]
    else:
        formats, share = date_formats(*_top(uniques, counts))
        if share < SHARE_TO_ACCEPT:
            return None
    values = date_values(uniques, formats)
    if _parsed_share(values, counts) < SHARE_TO_ACCEPT:
        return None
    return {"type": "date", "formats": formats,
            "how": f"date ({' or '.join(formats)}) → days since 1970-01-01" + _dropped(counts, values)}


def infer_spec(column):
    """Decide how a column of text is read: a spec dict with its `type` and a `how` that says so."""
    codes, uniques = distinct(column)
    counts = counts_of(codes, len(uniques))
    base = {"missing": int((codes < 0).sum()), "distinct": len(uniques)}
    if len(uniques) == 0:
        return {**base, "type": "empty", "how": "every cell blank or a code for missing"}
    if _is_flag(uniques):
        words = "/".join(sorted(set(pd.Index(uniques, dtype="str"))))
        return {**base, "type": "flag", "how": f"yes/no flag ({words}) → 1/0"}
    eight_digits = bool(_top(uniques, counts)[0].str.match(_EIGHT_DIGITS).all())
    spec = (_as_date(uniques, counts) if eight_digits else None) or _as_number(uniques, counts)
    spec = spec or _as_date(uniques, counts)
    if spec is None:
        spec = {"type": "category", "how": f"text category, {len(uniques)} distinct values"}
    return {**base, **spec}


def parse_values(column, spec):
    """Parse a column of text with its spec: floats for number/flag/date, a Categorical for a category."""
    codes, uniques = distinct(column)
    kind = spec["type"]
    if kind == "category":
        levels = list(spec["categories"])
        position = pd.Index(levels, dtype="str").get_indexer(uniques) if len(uniques) else np.zeros(1, dtype=int)
        if spec.get("other"):
            position[position < 0] = levels.index(spec["other"])
        rows = np.where(codes >= 0, position[np.maximum(codes, 0)], -1)
        return pd.Categorical.from_codes(rows, categories=pd.Index(levels, dtype="str"))
    if kind == "number":
        values = number_values(uniques)
    elif kind == "flag":
        values = flag_values(uniques)
    elif kind == "date":
        values = date_values(uniques, spec["formats"])
    else:
        raise ValueError(f"a column of type {kind!r} is not parsed")
    if len(values) == 0:
        return np.full(len(codes), np.nan)
    return np.where(codes >= 0, values[np.maximum(codes, 0)], np.nan)


def category_levels(column, min_rows):
    """The category levels worth keeping (at least `min_rows` rows) and whether an `other` level is needed."""
    codes, uniques = distinct(column)
    counts = counts_of(codes, len(uniques))
    order = np.argsort(-counts, kind="stable")
    keep = [str(uniques[i]) for i in order if counts[i] >= min_rows]
    return keep, bool((counts < min_rows).any())
