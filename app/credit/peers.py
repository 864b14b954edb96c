"""A subject against its peers: level features read within subject kind and size, and calibration per group.

A household's 1,435 kWh a year says nothing when read against a kiln's. The peer tables — the
quantiles of each level feature (electricity, revenue, insured headcount) within each group of
subject kind and size class — are FITTED in training from the training population only and stored
with the model version (metadata `peers`); scoring applies them row by row. So a subject scored
alone gets exactly the values it gets in a batch, a partition of subjects exactly those of the whole
frame, and no later subject ever moves an earlier one's percentile.

The same goes for the group offsets of the calibration (metadata `calibration.group_offsets`): a
shift of the log-odds per subject kind and file depth (thin: at most one operating source), fitted on
the validation period, so that each group's mean PD matches its own default rate.
"""
import bisect
import math

import numpy as np
import pandas as pd

from . import health

# level feature → the percentile feature that reads it within peers
LEVELS = {"elec_kwh_12m": "elec_kwh_peer_pctl", "tax_revenue_12m_wan": "revenue_peer_pctl",
          "si_insured": "insured_peer_pctl"}
PEER_FEATURES = tuple(LEVELS.values())
QUANTILES = np.linspace(0, 1, 41)  # every 2.5 %
MIN_PEERS = 30  # fewer known values than this: the kind's table (or everyone's) is used instead
ANY = "*"
THIN_SOURCES = 1  # at most this many operating sources on file: a thin file
OFFSET_SHRINK = 50  # loans of pseudo-weight pulling a group's offset towards 0
MAX_OFFSET = 1.0


def _text(values):
    return pd.Series(np.asarray(values, dtype=object)).astype(object).where(
        pd.notna(pd.Series(np.asarray(values, dtype=object))), None).to_numpy(dtype=object)


def peer_keys(kind, size):
    """The peer group of each row, most specific first: (kind|size, kind, everyone)."""
    kind, size = _text(kind), _text(size)
    full = np.array([f"{k}|{s or '-'}" for k, s in zip(kind, size, strict=True)], dtype=object)
    return full, np.array([f"{k}|{ANY}" for k in kind], dtype=object)


def fit_tables(frame):
    """The peer tables of a training frame (feature columns): level → group → quantile values."""
    full, by_kind = peer_keys(frame["subject_kind"], frame["size_class"])
    tables = {}
    for level in LEVELS:
        values = pd.to_numeric(frame[level], errors="coerce").to_numpy(dtype=float)
        known = ~np.isnan(values)
        table = {ANY: np.quantile(values[known], QUANTILES).tolist()} if known.sum() >= MIN_PEERS else {}
        for keys in (by_kind, full):
            for key in sorted(set(keys[known])):
                rows = known & (keys == key)
                if rows.sum() >= MIN_PEERS:
                    table[key] = np.quantile(values[rows], QUANTILES).tolist()
        tables[level] = table
    return tables


def _percentile(value, quantiles):
    """Where `value` falls among the peers (0–100), interpolated between the table's quantiles."""
    q = np.asarray(quantiles)
    if np.isnan(value):
        return np.nan
    low, high = np.searchsorted(q, value, side="left"), np.searchsorted(q, value, side="right")
    # ties (many households with the same use): the middle of the tied span
    position = (low + high) / 2 - 0.5 if high > low else np.interp(value, q, np.arange(len(q)))
    return float(np.clip(position, 0, len(q) - 1) / (len(q) - 1) * 100)


def percentiles(frame, tables):
    """{percentile feature: array} for the rows of `frame`, from the fitted `tables` (row by row)."""
    full, by_kind = peer_keys(frame["subject_kind"], frame["size_class"])
    out = {}
    for level, name in LEVELS.items():
        table = tables.get(level, {})
        values = pd.to_numeric(frame[level], errors="coerce").to_numpy(dtype=float)
        column = np.full(len(values), np.nan)
        for i, value in enumerate(values):
            quantiles = table.get(full[i]) or table.get(by_kind[i]) or table.get(ANY)
            if quantiles is not None:
                column[i] = _percentile(value, quantiles)
        out[name] = column
    return out


def with_peers(frame, tables):
    """`frame` with its percentile features filled from `tables` (None: left as they are), and its health
    features from the health filter's parameters stored with them (`tables["health"]`, app.credit.health)."""
    if tables is None:
        return frame
    frame = frame.copy()
    for name, column in percentiles(frame, tables).items():
        frame[name] = column
    if tables.get("health"):
        for name, column in health.apply(frame, tables["health"]).items():
            frame[name] = column
    return frame


def calibration_groups(kind, sources_present):
    """Each row's calibration group: subject kind and file depth ("farmer/thin")."""
    depth = np.where(np.asarray(sources_present, dtype=float) <= THIN_SOURCES, "thin", "full")
    return np.array([f"{k}/{d}" for k, d in zip(_text(kind), depth, strict=True)], dtype=object)


def fit_group_offsets(logit, y, groups):
    """Per group, the log-odds shift that makes its mean PD its default rate (shrunk towards 0 for small groups).

    Solved by Newton steps on Σ σ(logit + δ) = Σ y in each group, with OFFSET_SHRINK loans of prior
    weight at δ = 0 and |δ| ≤ MAX_OFFSET.
    """
    logit, y = np.asarray(logit, dtype=float), np.asarray(y, dtype=float)
    offsets = {}
    for group in sorted(set(groups)):
        rows = groups == group
        delta = 0.0
        for _ in range(50):
            p = 1 / (1 + np.exp(-(logit[rows] + delta)))
            gradient = np.sum(p - y[rows]) + OFFSET_SHRINK * np.mean(p) * delta
            hessian = np.sum(p * (1 - p)) + OFFSET_SHRINK * np.mean(p)
            step = gradient / hessian
            delta = float(np.clip(delta - step, -MAX_OFFSET, MAX_OFFSET))
            if abs(step) < 1e-8:
                break
        offsets[group] = round(delta, 6)
    return offsets


def group_offset(offsets, kind, sources_present):
    """The fitted offset of each row (0 for a group unseen in training)."""
    if not offsets:
        return np.zeros(len(np.atleast_1d(sources_present)))
    return np.array([offsets.get(g, 0.0) for g in calibration_groups(kind, sources_present)])


def row_percentiles(row, tables):
    """The percentile (and health) features of one feature row (name → value), as `with_peers` fills them in a frame."""
    kind, size = row.get("subject_kind"), row.get("size_class")
    kind = None if _missing(kind) else kind
    size = None if _missing(size) else size
    keys = (f"{kind}|{size or '-'}", f"{kind}|{ANY}", ANY)
    out = {}
    for level, name in LEVELS.items():
        table = tables.get(level, {})
        quantiles = next((table[k] for k in keys if k in table), None)
        value = row.get(level)
        value = np.nan if _missing(value) else float(value)
        out[name] = np.nan if quantiles is None else _percentile(value, quantiles)
    if tables.get("health"):
        out.update(health.row_features(row, tables["health"]))
    return out


def _missing(value):
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


class RowPeers:
    """`row_percentiles` for one row at a time without numpy: the tables as plain sorted lists, built once
    per loaded version, looked up by bisection. It gives the same floats `_percentile` gives (the same
    arithmetic as `np.interp` between two quantiles, and the same middle of a tied span).
    """

    MAX_GROUPS = 1000  # peer groups whose tables are remembered (kinds × sizes: a few dozen)

    def __init__(self, tables):
        self.tables = {level: {key: [float(v) for v in quantiles] for key, quantiles in tables.get(level, {}).items()}
                       for level in LEVELS}
        self.health = health.RowHealth(tables["health"]) if tables.get("health") else None
        self.names = filled_features(tables)  # what values() gives, in this order
        self._groups = {}

    def _group(self, kind, size):
        """((level, quantiles or None), …) of a subject kind and size class, in LEVELS order: the most
        specific table that exists, as row_percentiles chooses it."""
        if type(kind) is str and type(size) is str:  # most rows: found as given
            found = self._groups.get((kind, size))
            if found is not None:
                return found
        kind = None if _absent(kind) else kind
        size = None if _absent(size) else size
        found = self._groups.get((kind, size))
        if found is None:
            keys = (f"{kind}|{size or '-'}", f"{kind}|{ANY}", ANY)
            found = tuple((level, next((self.tables[level][k] for k in keys if k in self.tables[level]), None))
                          for level in LEVELS)
            if len(self._groups) < self.MAX_GROUPS:
                self._groups[(kind, size)] = found
        return found

    def values(self, row):
        """The percentile (and health) features of one feature row (name → value), in the order of `names`."""
        out = []
        for level, quantiles in self._group(row.get("subject_kind"), row.get("size_class")):
            value = row.get(level)
            out.append(math.nan if quantiles is None or _absent(value) else _list_percentile(float(value), quantiles))
        if self.health is not None:
            out += self.health.values(row)
        return out

    def __call__(self, row):
        """{percentile (and health) feature: value} of one feature row (name → value), as row_percentiles."""
        return dict(zip(self.names, self.values(row), strict=True))


def filled_features(tables):
    """The features `with_peers` and `row_percentiles` fill from `tables`: the percentiles among peers, and the
    health features when the tables hold the health filter's parameters."""
    if tables is None:
        return ()
    return PEER_FEATURES + (health.HEALTH_FEATURES if tables.get("health") else ())


def _absent(value):
    """_missing without numpy (math.isnan is several times quicker on one float)."""
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _list_percentile(value, q):
    """`_percentile` of a known value on a plain list of quantiles."""
    if value != value:
        return np.nan
    low, high = bisect.bisect_left(q, value), bisect.bisect_right(q, value)
    last = len(q) - 1
    if high > low:
        position = (low + high) / 2 - 0.5
    elif high == 0:  # below the lowest quantile: np.interp gives the first position
        position = 0.0
    elif low > last:  # above the highest
        position = float(last)
    else:  # np.interp's own arithmetic between the two quantiles around the value
        j = high - 1
        position = (1.0 / (q[j + 1] - q[j])) * (value - q[j]) + j
    return (0 if position < 0 else last if position > last else position) / last * 100  # min(max(…)) inline
