"""A lender's loan book: labelled rows, each column's inferred type, and the columns that are not features."""
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .parsing import category_levels, distinct, infer_spec, parse_values
from .reading import BookError, read_table

MIN_CLASS_ROWS = 50
OTHER_LEVEL = "(other)"
ID_NAME = re.compile(r"(?i)(^|[_\s.-])(id|no|nbr|num|key|uuid|guid|code)$|^id[_\s.-]"
                     r"|编号|序号|账号|号码|合同号|客户号|流水号")
MAX_LEVELS = 5000


@dataclass
class Book:
    """Labelled rows of a loan book, parsed into features, with what was inferred about every column."""

    features: pd.DataFrame
    bad: np.ndarray
    time: np.ndarray | None
    specs: dict
    rows: int
    rows_unlabelled: int
    encoding: str
    excluded: dict = field(default_factory=dict)


def _labels(column, bad_value, target):
    """Row mask of labelled rows and 1/0 bad flags for them; fails when `bad_value` never occurs."""
    codes, uniques = distinct(column)
    labelled = codes >= 0
    wanted = str(bad_value).strip()
    hits = np.flatnonzero(np.asarray(uniques == wanted))
    if len(hits) == 0:
        hits = np.flatnonzero(np.asarray(uniques.str.lower() == wanted.lower()))
    if len(hits) == 0:
        seen = ", ".join(map(str, uniques[:12]))
        raise BookError(f"目标列 {target} 中从未出现坏样本取值 {wanted!r}（出现过的取值：{seen}）",
                        f"the bad value {wanted!r} never occurs in target column {target} (values seen: {seen})")
    return labelled, np.isin(codes[labelled], hits).astype(np.int8)


def _check_classes(bad, target):
    n_bad, n_good = int(bad.sum()), int(len(bad) - bad.sum())
    if min(n_bad, n_good) < MIN_CLASS_ROWS:
        raise BookError(
            f"有标签的坏样本 {n_bad} 行、好样本 {n_good} 行；每类至少需要 {MIN_CLASS_ROWS} 行（目标列 {target}）",
            f"{n_bad} bad and {n_good} good labelled rows in {target}; each needs at least {MIN_CLASS_ROWS}")


def _id_like_number(values, spec, name):
    """Why an integer column is an identifier (unique per row and sequential, dense or named so), else None."""
    present = values[~np.isnan(values)]
    if not spec.get("integer") or "currency" in spec["how"] or len(present) < 2:
        return None
    if len(np.unique(present)) < len(values):
        return None
    steps = np.diff(present)
    if (steps > 0).all() or (steps < 0).all():
        return "id_like: unique per row and monotone"
    if present.max() - present.min() < 2 * len(present) or ID_NAME.search(name):
        return "id_like: unique integer per row"
    return None


def _role(name, spec, values, rows):
    """Why a column is not a feature, or None when it is one."""
    if spec["type"] == "empty":
        return "empty: every cell blank"
    if spec["distinct"] == 1 and spec["missing"] == 0:
        return "constant: one value in every row"
    if spec["type"] == "category":
        present = rows - spec["missing"]
        if spec["distinct"] > max(20, 0.5 * present) or spec["distinct"] > MAX_LEVELS:
            return f"id_like: high-cardinality text ({spec['distinct']} distinct values in {present} rows)"
        return None
    if spec["type"] == "number":
        return _id_like_number(values, spec, name)
    return None


def _category_spec(column, spec, rows):
    """Keep levels with enough rows; the rest read as one `(other)` level."""
    levels, has_rare = category_levels(column, max(10, int(0.0005 * rows)))
    if has_rare:
        levels = [*levels, OTHER_LEVEL]
    return {**spec, "categories": levels, "other": OTHER_LEVEL if has_rare else None,
            "how": spec["how"] + (f"; {spec['distinct'] - len(levels) + 1} rare values read as {OTHER_LEVEL}"
                                  if has_rare else "")}


def _time_values(frame, time_col):
    if time_col not in frame.columns:
        raise BookError(f"找不到时间列 {time_col}", f"time column {time_col} not found")
    spec = infer_spec(frame[time_col])
    if spec["type"] not in ("date", "number"):
        raise BookError(f"时间列 {time_col} 无法解析为日期或数字",
                        f"time column {time_col} is neither dates nor numbers")
    return {**spec, "role": "time: orders the split, not a feature"}, parse_values(frame[time_col], spec)


def _drop_named(frame, drop, kept):
    clash = [name for name in drop if name in kept]
    if clash:
        names = ", ".join(clash)
        raise BookError(f"目标列或时间列不能同时出现在 --drop 中：{names}",
                        f"the target or time column cannot also be in --drop: {names}")
    unknown = [name for name in drop if name not in frame.columns]
    if unknown:
        names = ", ".join(unknown)
        raise BookError(f"--drop 中的列不存在：{names}", f"--drop names unknown columns: {names}")
    return frame.drop(columns=list(drop))


def _features(frame, skip):
    """Infer every column but `skip`; returns parsed feature columns, specs, and excluded columns with reasons."""
    parsed, specs, excluded = {}, {}, {}
    rows = len(frame)
    for name in frame.columns:
        if name in skip:
            continue
        spec = infer_spec(frame[name])
        if spec["type"] == "category":
            spec = _category_spec(frame[name], spec, rows)
        values = parse_values(frame[name], spec) if spec["type"] != "empty" else None
        why = _role(name, spec, values, rows)
        specs[name] = {**spec, "role": why or "feature"}
        if why:
            excluded[name] = why
        else:
            parsed[name] = values
    return pd.DataFrame(parsed, index=pd.RangeIndex(rows)), specs, excluded


def load_book(path, target, bad_value, time_col=None, drop=()):
    """Read, label and parse a loan book CSV: see `Book`; raises `BookError` when it cannot be trained on."""
    frame, encoding, _ = read_table(path)
    if target not in frame.columns:
        shown = ", ".join(list(frame.columns)[:30])
        raise BookError(f"找不到目标列 {target}（现有列：{shown}）",
                        f"target column {target} not found (columns: {shown})")
    frame = _drop_named(frame, drop, {target, time_col})
    rows = len(frame)
    labelled, bad = _labels(frame[target], bad_value, target)
    _check_classes(bad, target)
    frame = frame.loc[labelled].reset_index(drop=True)
    time_spec, time = _time_values(frame, time_col) if time_col else (None, None)
    features, specs, excluded = _features(frame, {target, time_col})
    if time_spec:
        specs[time_col] = time_spec
    if features.shape[1] == 0:
        raise BookError("没有可用的特征列", "no usable feature columns are left")
    return Book(features=features, bad=bad, time=time, specs=specs, rows=rows,
                rows_unlabelled=int(rows - labelled.sum()), encoding=encoding, excluded=excluded)
