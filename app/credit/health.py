"""A learned estimate of business health: a local-level Kalman filter over the monthly signals.

A firm's health is seen only through noisy monthly views — the revenue it files (税务), the
electricity it uses (电力), the people it insures (社保). Each view is read as a log level against the
subject's peers: `z = (log value − seasonal offset of its industry and calendar month − mean of its
peers) / sd of its peers` (peers: subject kind and size class, as in app.credit.peers). A local-level
model then separates the firm's persistent level from the month's noise:

    z_t = level_t + ε_t,  ε_t ~ N(0, r)        level_t = level_{t−1} + η_t,  η_t ~ N(0, q)

started from the peers' distribution (level_0 ~ N(0, 1 − r)), so that a short history is shrunk
towards its peers and no history at all stays missing (not "average", not "bad").

Fitted in training only (`fit`), on the training period's loans: the seasonal offsets, the peer
means and sds, and the noise variances q and r of each signal by the method of moments (for the
first differences of a local level, var Δz = q + 2r and cov(Δz_t, Δz_{t−1}) = −r). Stored with the
model version (metadata `peers` → `health`) and applied in scoring by `apply` — the same numpy code
for a batch and for one row, so that a subject scored alone gets exactly its batch values.

The filter runs forward only, over the HEALTH_MONTHS months that ended before the as-of date: the
filtered level, never a smoothed one, so that no later month can move an earlier date's features.
The feature module (app.credit.features) supplies those months as the HEALTH_INPUTS columns.
"""
import math
import operator

import numpy as np
import pandas as pd

# signal → (source, field, where): the monthly views of health the filter reads
SIGNALS = {
    "revenue": ("tax_filing", "revenue", None),
    "electricity": ("utilities", "usage", ("utility", "electricity")),
    "insured": ("social_insurance", "insured", None),
}
HEALTH_MONTHS = 13  # the filter's window: a year, and the month before it (for the 6-month change)
CHANGE_LAG = 6  # the change of the level is taken against its filtered value this many months earlier
# The filter's inputs: each signal's monthly values, newest first (`health_<signal>_m<lag>`, lag 1 = last month).
HEALTH_INPUTS = tuple(f"hm_{signal}_{lag}" for signal in SIGNALS for lag in range(1, HEALTH_MONTHS + 1))
# The model inputs this module makes.
LEVEL_FEATURES = {signal: f"health_{signal}" for signal in SIGNALS}
HEALTH_FEATURES = (*LEVEL_FEATURES.values(), "health_index", "health_index_change_6m")
MIN_ROWS = 30  # fewer rows than this in a group: the broader group's figures are used
MIN_MONTHS = 6  # a row's window needs this many known months to inform the season and peer tables
ANY = "*"
MIN_VARIANCE = 1e-3


def inputs(out, windows):
    """The HEALTH_INPUTS columns of the targets of `windows` (a FrameWindows or a SubjectWindows)."""
    for signal, (source, field, where) in SIGNALS.items():
        matrix = windows.window(source, field, HEALTH_MONTHS, where=where)
        for lag in range(HEALTH_MONTHS):
            out[f"hm_{signal}_{lag + 1}"] = matrix[:, lag]


def _text(values):
    values = pd.Series(np.asarray(values, dtype=object))
    return values.where(values.notna(), None).to_numpy(dtype=object)


def _log(values):
    """[row, lag] log of monthly values (NaN for missing and for zero or less: a month without revenue or
    use says the month was not filed or not billed, not how large the firm is)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(values > 0, np.log(np.where(values > 0, values, 1.0)), np.nan)


def _calendar(as_of_month):
    """[row, lag] calendar month (0 = January) of each month of the window."""
    as_of_month = np.where(np.isnan(as_of_month), 1, as_of_month).astype(int)
    lags = np.arange(1, HEALTH_MONTHS + 1)
    return (as_of_month[:, None] - 1 - lags[None, :]) % 12


def _rows(kind, size, industry, as_of_month, values):
    """What the filter reads of some rows: their peer keys, calendar months and log signals."""
    full = np.array([f"{k}|{s or '-'}" for k, s in zip(kind, size, strict=True)], dtype=object)
    by_kind = np.array([f"{k}|{ANY}" for k in kind], dtype=object)
    industry = np.array([str(i) if i is not None else ANY for i in industry], dtype=object)
    return {"full": full, "by_kind": by_kind, "industry": industry, "calendar": _calendar(as_of_month),
            "logs": {signal: _log(matrix) for signal, matrix in values.items()}}


def _frame_rows(frame):
    """`_rows` of a feature frame."""
    def number(name):
        return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)

    values = {signal: np.column_stack([number(f"hm_{signal}_{lag}") for lag in range(1, HEALTH_MONTHS + 1)])
              for signal in SIGNALS}
    return _rows(_text(frame["subject_kind"]), _text(frame["size_class"]), _text(frame["industry_division"]),
                 number("as_of_month"), values)


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


_TEXT, _NUMBER = {str, type(None)}, {int, float}  # the types of values a row's peer group is kept by as given


def _plain(value):
    return None if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) else value


def nan_as_none(value):
    """A text field's value as a key to keep things under: NaN (a frame's empty text, e.g. every household's size
    class) is the None a missing text is, so that such rows find what was kept for them; anything else as given."""
    return None if type(value) is float and value != value else value


def _lookup(table, *keys):
    """Per row, the first of its keys the table holds (ANY last), as an array of the table's values."""
    fallback = table.get(ANY)
    out = []
    for row_keys in zip(*keys, strict=True):
        out.append(next((table[k] for k in row_keys if k in table), fallback))
    return out


def _season(table, industry, calendar):
    """[row, lag] seasonal offsets of each row's industry (the district's where the industry is rare)."""
    rows = np.array(_lookup(table, industry), dtype=float)  # [row, 12]
    return np.take_along_axis(rows, calendar, axis=1)


def fit(frame):
    """The filter's parameters, fitted on a training frame (the feature module's columns)."""
    rows_of = _frame_rows(frame)
    full, by_kind, industry, calendar = (rows_of[k] for k in ("full", "by_kind", "industry", "calendar"))
    params = {"signals": {}}
    for signal in SIGNALS:
        logs = rows_of["logs"][signal]
        known = np.sum(~np.isnan(logs), axis=1)
        usable = known >= MIN_MONTHS
        with np.errstate(invalid="ignore"), _quiet():
            centred = logs - np.nanmean(logs, axis=1, keepdims=True)
        # seasonal offsets: the mean deviation from a row's own mean, per industry and calendar month
        season = {}
        for key, rows in [(ANY, usable)] + [(k, usable & (industry == k)) for k in sorted(set(industry[usable]))]:
            if rows.sum() < MIN_ROWS:
                continue
            offsets = []
            for month in range(12):
                cells = centred[rows][calendar[rows] == month]
                cells = cells[~np.isnan(cells)]
                offsets.append(float(np.mean(cells)) if len(cells) >= MIN_ROWS else 0.0)
            season[key] = [round(o - float(np.mean(offsets)), 6) for o in offsets]
        if ANY not in season:
            continue
        adjusted = logs - _season(season, industry, calendar)
        with _quiet():
            level = np.nanmean(adjusted, axis=1)
        # the peers' mean and sd of a subject's deseasonalised level
        peers = {}
        for key, rows in ([(ANY, usable)] + [(k, usable & (by_kind == k)) for k in sorted(set(by_kind[usable]))]
                          + [(k, usable & (full == k)) for k in sorted(set(full[usable]))]):
            if rows.sum() >= MIN_ROWS:
                peers[key] = [round(float(np.mean(level[rows])), 6), round(max(float(np.std(level[rows])), 0.05), 6)]
        if ANY not in peers:
            continue
        z = (adjusted - np.array(_lookup(peers, full, by_kind), dtype=float)[:, :1]) / np.array(
            _lookup(peers, full, by_kind), dtype=float)[:, 1:]
        z = np.where(usable[:, None], z, np.nan)
        # method of moments on first differences (columns are newest first: Δ_t = z_t − z_{t−1})
        diff = z[:, :-1] - z[:, 1:]
        pairs = diff[:, :-1] * diff[:, 1:]
        gamma0, gamma1 = np.nanmean(diff ** 2), np.nanmean(pairs)
        r = float(np.clip(-gamma1, MIN_VARIANCE, 0.95))
        q = float(max(gamma0 - 2 * r, MIN_VARIANCE))
        params["signals"][signal] = {"season": season, "peers": peers, "q": round(q, 6), "r": round(r, 6)}
    params["index"] = _fit_index(rows_of, params)
    return params


def _fit_index(rows_of, params):
    """One common factor behind the signals' filtered levels: each signal's loading and own variance.

    With three signals the one-factor model is identified from the covariances: λ₁² = c₁₂c₁₃/c₂₃.
    """
    names = list(params["signals"])
    if len(names) < 3:  # too few signals fitted (a book without monthly records): no index
        return {}
    filtered = _levels(rows_of, params["signals"], names)[0]
    levels = {name: filtered[:, k] for k, name in enumerate(names)}
    cov = np.full((len(names), len(names)), np.nan)
    for i, a in enumerate(names):  # pairwise complete covariances: not every subject has every signal
        for j, b in enumerate(names):
            both = ~np.isnan(levels[a]) & ~np.isnan(levels[b])
            if both.sum() >= MIN_ROWS:
                cov[i, j] = np.cov(levels[a][both], levels[b][both])[0, 1]
    out = {}
    for i, name in enumerate(names):
        others = [m for m in range(len(names)) if m != i]
        estimates = [cov[i, j] * cov[i, k] / cov[j, k] for a, j in enumerate(others) for k in others[a + 1:]
                     if cov[j, k] > 0 and cov[i, j] * cov[i, k] > 0]
        if np.isnan(cov[i, i]) or not estimates:
            continue
        loading = float(np.sqrt(np.median(estimates)))
        own = max(cov[i, i] - loading ** 2, 0.05 * cov[i, i], MIN_VARIANCE)
        out[name] = [round(loading, 6), round(float(own), 6)]
    return out


class _quiet:
    """np.nanmean of an all-NaN row is NaN, as intended: no warning."""

    def __enter__(self):
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._catch.__exit__(*exc)


def _filter(z, q, r):
    """Forward local-level filter of [row, signal, lag] (newest first), `q` and `r` per signal:
    (level now, level CHANGE_LAG months before), each [row, signal]."""
    months = z.shape[-1]
    known = ~np.isnan(z)
    z = np.where(known, z, 0.0)
    level = np.zeros(z.shape[:-1])
    variance = np.broadcast_to(np.maximum(1.0 - r, MIN_VARIANCE), level.shape)
    seen = np.zeros(level.shape, dtype=bool)
    earlier = level
    for column in range(months - 1, -1, -1):  # oldest to newest
        variance = variance + q
        gain = np.where(known[..., column], variance / (variance + r), 0.0)
        level = level + gain * (z[..., column] - level)
        variance = (1 - gain) * variance
        seen |= known[..., column]
        if column == CHANGE_LAG:
            earlier = np.where(seen, level, np.nan)
    return np.where(seen, level, np.nan), earlier


def apply(frame, params):
    """{health feature: array} of the rows of a feature frame (`params`: `fit`'s)."""
    out = {name: np.full(len(frame), np.nan) for name in HEALTH_FEATURES}
    if not params or not all(name in frame for name in HEALTH_INPUTS):
        return out
    return _apply(_frame_rows(frame), params, out)


def row_features(row, params):
    """The health features of one feature row (name → value), as `apply` gives them in a frame (see RowHealth;
    a scorer keeps one RowHealth per loaded version instead)."""
    return dict(zip(HEALTH_FEATURES, RowHealth(params).values(row), strict=True))


class RowHealth:
    """`apply` for one feature row at a time, in plain Python floats (IEEE doubles like numpy's): the same
    arithmetic in the same order, so a row scored alone gets exactly its batch values
    (tests/credit/test_health.py compares them bit for bit).

    Made once per loaded version (peers.RowPeers). What depends only on the version's parameters and on
    a row's peer group, industry and calendar month (the seasonal offsets in the window's column order,
    the peers' mean and sd), or on a signal's pattern of known months (the filter's gain at each known
    month: the variances do not depend on the values), is computed on first use and kept. A row then
    costs one vectorised log of its known months, one pass over those months per signal and a few lookups.
    """

    MAX_KEPT = 20_000  # groups and patterns kept (kinds × sizes × industries × 12 months, 3 × 2^13 patterns)

    def __init__(self, params):
        fitted = (params or {}).get("signals", {})
        index = (params or {}).get("index") or {}
        slots = list(SIGNALS)
        # per fitted signal, in the parameters' order (the order `_apply` sums the index in): its output
        # place, q, r, and the index's two weights (loading / own, loading² / own) or None
        self.signals = tuple(
            (slots.index(signal), spec["q"], spec["r"],
             (index[signal][0] / index[signal][1], index[signal][0] ** 2 / index[signal][1])
             if signal in index else None)
            for signal, spec in fitted.items())
        self._fitted = tuple(fitted.values())
        # the monthly inputs of the fitted signals, in the same order: signal k's months are the k-th HEALTH_MONTHS
        self._names = tuple(f"hm_{signal}_{lag}" for signal in fitted for lag in range(1, HEALTH_MONTHS + 1))
        # (a version whose training had no monthly signal to fit has none: `values` then reads nothing)
        self._inputs = operator.itemgetter(*self._names) if self._names else (lambda _row: ())
        self._groups = {}
        self._given = {}
        self._plans = {}
        self._row_plans = {}  # a row's pattern of known months (every signal's) → each signal's plan

    def _group(self, kind, size, industry, month):
        """Per fitted signal: (seasonal offset of each column of the window, peers' mean, peers' sd)."""
        industry = str(industry) if industry is not None else ANY  # 30 and 30.0: "30" and "30.0", as in a frame
        key = (kind, size, industry, month)
        found = self._groups.get(key)
        if found is None:
            full, by_kind = f"{kind}|{size or '-'}", f"{kind}|{ANY}"
            calendar = [(month - 1 - lag) % 12 for lag in range(1, HEALTH_MONTHS + 1)]
            found = []
            for spec in self._fitted:
                table, peer_table = spec["season"], spec["peers"]
                season = table[industry] if industry in table else table.get(ANY)
                mean, sd = peer_table.get(full) or peer_table.get(by_kind) or peer_table.get(ANY)
                found.append(([season[calendar[column]] for column in range(HEALTH_MONTHS)], mean, sd))
            found = tuple(found)
            if len(self._groups) < self.MAX_KEPT:
                self._groups[key] = found
        return found

    def _row_group(self, row):
        """_group of a row's kind, size, industry and as-of month, kept also by the values as given when they
        are text, None or numbers other than NaN (found again without reading them as text and number)."""
        given = kind, size, industry, month = (nan_as_none(row.get("subject_kind")), nan_as_none(row.get("size_class")),
                                               nan_as_none(row.get("industry_division")), row.get("as_of_month"))
        # text or None, and a month as a number: no pd.NA (whose comparison with a kept key would raise), and
        # no number where text belongs (1 and 1.0 are one key but "1" and "1.0" two industries)
        plain = type(kind) in _TEXT and type(size) in _TEXT and type(industry) in _TEXT and type(month) in _NUMBER
        groups = self._given.get(given) if plain else None
        return groups if groups is not None else self._group_of(given, plain)

    def _group_of(self, given, plain):
        """_group of (kind, size, industry, as-of month) as given; kept under them when `plain` and the month
        is not NaN (a NaN would never be found again)."""
        kind, size, industry = (_plain(value) for value in given[:3])
        month = _number(given[3])
        groups = self._group(kind, size, industry, int(month) if month == month else 1)
        if plain and month == month and len(self._given) < self.MAX_KEPT:
            self._given[given] = groups
        return groups

    def _plan(self, k, known):
        """The filter's steps for signal k's pattern of known months (by column, newest first): the known
        months from the oldest, as (place among the known values, column, gain), split at CHANGE_LAG —
        (steps up to and including column CHANGE_LAG, steps after it, how many months are known)."""
        key = (k, known)
        plan = self._plans.get(key)
        if plan is None:
            _, q, r, _ = self.signals[k]
            places = {column: place for place, column in enumerate(c for c in range(HEALTH_MONTHS) if known[c])}
            before, after, variance = [], [], max(1.0 - r, MIN_VARIANCE)
            for column in range(HEALTH_MONTHS - 1, -1, -1):  # oldest to newest, as _filter
                variance = variance + q
                if known[column]:
                    gain = variance / (variance + r)
                    variance = (1 - gain) * variance
                    (before if column >= CHANGE_LAG else after).append((places[column], column, gain))
            plan = (tuple(before), tuple(after), len(places))
            if len(self._plans) < self.MAX_KEPT:
                self._plans[key] = plan
        return plan

    def _logs(self, row):
        """(which of the row's monthly inputs are known, as bytes of 0 and 1; the logs of the known ones in
        the same order)."""
        try:
            values = self._inputs(row)
        except KeyError:  # a row without some monthly column: missing, as in a frame
            values = tuple(row.get(name) for name in self._names)
        try:
            values = np.array(values, dtype=float)
        except (TypeError, ValueError):  # pd.NA or text that is no number among them: missing, as in a frame
            values = np.array([_number(value) for value in values], dtype=float)
        known = values > 0  # NaN is not > 0; nor is a month without revenue or use
        # numpy's log (the function the frame's filter uses, so the same bits) of the known months only
        return known.tobytes(), np.log(values[known]).tolist()

    def _plans_of(self, known):
        """Each fitted signal's _plan for a row's known months (every signal's, as _logs gives them), kept per
        such pattern (a few dozen are common: each signal known every month, never, or from some month on)."""
        plans = self._row_plans.get(known)
        if plans is None:
            plans = tuple(self._plan(k, known[k * HEALTH_MONTHS:(k + 1) * HEALTH_MONTHS])
                          for k in range(len(self.signals)))
            if len(self._row_plans) < self.MAX_KEPT:
                self._row_plans[known] = plans
        return plans

    def values(self, row):
        """The HEALTH_FEATURES values of one feature row (name → value), in that order."""
        out = [math.nan] * len(HEALTH_FEATURES)
        if not self.signals:
            return out
        groups = self._row_group(row)
        known, logs = self._logs(row)
        weighted, precision, changed, change_precision = 0.0, 1.0, 0.0, 1.0
        seen_any = seen_earlier = False
        start = 0  # where the signal's known months start among the logs
        for (slot, _q, _r, weights), (before, after, count), (season, mean, sd) in zip(
                self.signals, self._plans_of(known), groups, strict=True):
            if not count:
                continue  # nothing known: the level stays missing and adds nothing to the index
            level = 0.0
            for place, column, gain in before:
                z = (logs[start + place] - season[column] - mean) / sd
                level = level + gain * (z - level)
            earlier = level if before else math.nan
            for place, column, gain in after:
                z = (logs[start + place] - season[column] - mean) / sd
                level = level + gain * (z - level)
            start += count
            out[slot] = level
            if weights is None:
                continue
            weight, weight_squared = weights
            weighted += weight * level
            precision += weight_squared
            seen_any = True
            if earlier == earlier:
                changed += weight * (level - earlier)
                change_precision += weight_squared
                seen_earlier = True
        if seen_any:
            out[-2] = weighted / precision
        if seen_earlier:
            out[-1] = changed / change_precision
        return out


def _apply(rows_of, params, out):
    n = len(rows_of["full"])
    index = params.get("index") or {}
    signals = list(params.get("signals", {}))
    if not signals:
        return out
    levels, earliers = _levels(rows_of, params["signals"], signals)
    weighted, precision = np.zeros(n), np.ones(n)
    changed, change_precision = np.zeros(n), np.ones(n)
    seen, seen_earlier = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    for k, signal in enumerate(signals):
        level, earlier = levels[:, k], earliers[:, k]
        out[LEVEL_FEATURES[signal]] = level
        if signal not in index:
            continue
        loading, own = index[signal]
        # the common factor's posterior mean given the known levels (factor ~ N(0, 1))
        known = ~np.isnan(level)
        weighted += np.where(known, loading / own * np.where(known, level, 0.0), 0.0)
        precision += np.where(known, loading ** 2 / own, 0.0)
        seen |= known
        # the change: of the signals known both now and CHANGE_LAG months before, weighted alike
        both = known & ~np.isnan(earlier)
        changed += np.where(both, loading / own * np.where(both, level - earlier, 0.0), 0.0)
        change_precision += np.where(both, loading ** 2 / own, 0.0)
        seen_earlier |= both
    out["health_index"] = np.where(seen, weighted / precision, np.nan)
    out["health_index_change_6m"] = np.where(seen_earlier, changed / change_precision, np.nan)
    return out


def _levels(rows_of, fitted, signals):
    """The signals' filtered levels against peers (now, and CHANGE_LAG months before): [row, signal] each."""
    z = []
    for signal in signals:
        adjusted = rows_of["logs"][signal] - _season(fitted[signal]["season"], rows_of["industry"], rows_of["calendar"])
        peer = np.array(_lookup(fitted[signal]["peers"], rows_of["full"], rows_of["by_kind"]), dtype=float)
        z.append((adjusted - peer[:, :1]) / peer[:, 1:])
    q = np.array([fitted[signal]["q"] for signal in signals])
    r = np.array([fitted[signal]["r"] for signal in signals])
    return _filter(np.stack(z, axis=1), q, r)
