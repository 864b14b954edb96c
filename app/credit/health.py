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


def _logs(frame, signal):
    """[row, lag] log of a signal's monthly values, newest first (NaN for missing and for zero or less:
    a month without revenue or use says the month was not filed or not billed, not how large the firm is)."""
    values = np.column_stack([pd.to_numeric(frame[f"hm_{signal}_{lag}"], errors="coerce").to_numpy(dtype=float)
                              for lag in range(1, HEALTH_MONTHS + 1)])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(values > 0, np.log(np.where(values > 0, values, 1.0)), np.nan)


def _calendar(frame):
    """[row, lag] calendar month (0 = January) of each month of the window."""
    as_of_month = pd.to_numeric(frame["as_of_month"], errors="coerce").to_numpy(dtype=float)
    as_of_month = np.where(np.isnan(as_of_month), 1, as_of_month).astype(int)
    lags = np.arange(1, HEALTH_MONTHS + 1)
    return (as_of_month[:, None] - 1 - lags[None, :]) % 12


def _keys(frame):
    kind, size = _text(frame["subject_kind"]), _text(frame["size_class"])
    industry = _text(frame["industry_division"])
    full = np.array([f"{k}|{s or '-'}" for k, s in zip(kind, size, strict=True)], dtype=object)
    by_kind = np.array([f"{k}|{ANY}" for k in kind], dtype=object)
    return full, by_kind, np.array([str(i) if i is not None else ANY for i in industry], dtype=object)


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
    full, by_kind, industry = _keys(frame)
    calendar = _calendar(frame)
    params = {"signals": {}}
    for signal in SIGNALS:
        logs = _logs(frame, signal)
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
    params["index"] = _fit_index(frame, params)
    return params


def _fit_index(frame, params):
    """One common factor behind the signals' filtered levels: each signal's loading and own variance.

    With three signals the one-factor model is identified from the covariances: λ₁² = c₁₂c₁₃/c₂₃.
    """
    levels = {signal: _levels(frame, signal, fitted)[0] for signal, fitted in params["signals"].items()}
    names = list(levels)
    if len(names) < 3:
        return {}
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
    """Forward local-level filter of [row, lag] (newest first): (level now, level CHANGE_LAG months before)."""
    n, months = z.shape
    level, variance = np.zeros(n), np.full(n, max(1.0 - r, MIN_VARIANCE))
    seen = np.zeros(n, dtype=bool)
    earlier = np.full(n, np.nan)
    for column in range(months - 1, -1, -1):  # oldest to newest
        variance = variance + q
        known = ~np.isnan(z[:, column])
        gain = np.where(known, variance / (variance + r), 0.0)
        level = level + gain * np.where(known, z[:, column] - level, 0.0)
        variance = (1 - gain) * variance
        seen |= known
        if column == CHANGE_LAG:
            earlier = np.where(seen, level, np.nan)
    return np.where(seen, level, np.nan), earlier


def apply(frame, params):
    """{health feature: array} of the rows of `frame` (a DataFrame, or a dict of one-element lists)."""
    frame = frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(frame)
    n = len(frame)
    out = {name: np.full(n, np.nan) for name in HEALTH_FEATURES}
    if not params or not all(name in frame for name in HEALTH_INPUTS):
        return out
    index = params.get("index") or {}
    weighted, earlier_weighted, precision = np.zeros(n), np.zeros(n), np.ones(n)
    seen, seen_earlier = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    for signal, fitted in params.get("signals", {}).items():
        level, earlier = _levels(frame, signal, fitted)
        out[LEVEL_FEATURES[signal]] = level
        if signal not in index:
            continue
        loading, own = index[signal]
        # the common factor's posterior mean given the known levels (factor ~ N(0, 1))
        weighted += np.where(np.isnan(level), 0.0, loading / own * np.nan_to_num(level))
        earlier_weighted += np.where(np.isnan(earlier) | np.isnan(level), 0.0, loading / own * np.nan_to_num(earlier))
        precision += np.where(np.isnan(level), 0.0, loading ** 2 / own)
        seen |= ~np.isnan(level)
        seen_earlier |= ~np.isnan(earlier) & ~np.isnan(level)
    out["health_index"] = np.where(seen, weighted / precision, np.nan)
    out["health_index_change_6m"] = np.where(seen_earlier, (weighted - earlier_weighted) / precision, np.nan)
    return out


def _levels(frame, signal, fitted):
    """A signal's filtered level against peers (now, and CHANGE_LAG months before) for the rows of `frame`."""
    full, by_kind, industry = _keys(frame)
    z = _logs(frame, signal) - _season(fitted["season"], industry, _calendar(frame))
    peer = np.array(_lookup(fitted["peers"], full, by_kind), dtype=float)
    return _filter((z - peer[:, :1]) / peer[:, 1:], fitted["q"], fitted["r"])


def row_features(row, params):
    """The health features of one feature row (name → value), as `apply` gives them in a frame."""
    columns = {name: [row.get(name)] for name in (*HEALTH_INPUTS, "as_of_month", "subject_kind", "size_class",
                                                  "industry_division")}
    return {name: float(values[0]) for name, values in apply(columns, params).items()}
