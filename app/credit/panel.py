"""Monthly panels: a source's field as a [subject, month] matrix, read back as of target dates."""
import numpy as np
import pandas as pd


def month_number(dates):
    """Months since year 0 (year * 12 + month - 1) of a datetime Series."""
    return (dates.dt.year * 12 + dates.dt.month - 1).to_numpy()


def ratio(now, then, now_ok, then_ok):
    """now / then − 1 where both are known and `then` is positive, else NaN."""
    with np.errstate(invalid="ignore", divide="ignore"):
        value = now / then - 1
    return np.where(now_ok & then_ok & (then > 0), value, np.nan)


class Grid:
    """The subjects and months of a feature build, and where each target sits in them."""

    def __init__(self, codes, month0, months, target_codes, cutoff):
        self.codes = codes
        self.month0 = month0
        self.months = months
        self.target_codes = np.asarray(target_codes)
        self.rows = codes.get_indexer(self.target_codes)
        self.cutoff = cutoff - month0  # months < cutoff have ended before the as-of date

    @classmethod
    def for_frames(cls, frames, target_codes, as_of):
        """A grid covering the targets' subjects and every month of the monthly sources."""
        codes = pd.Index(pd.unique(np.asarray(target_codes)))
        cutoff = month_number(as_of)
        low, high = cutoff.min() - 36, cutoff.max()
        for frame in frames.values():
            if "period" in frame.columns and len(frame) and pd.api.types.is_datetime64_any_dtype(frame["period"]):
                periods = month_number(frame["period"].dropna())
                if len(periods):
                    low, high = min(low, periods.min()), max(high, periods.max())
        return cls(codes, int(low), int(high - low + 1), target_codes, cutoff)

    def _positions(self, frame):
        rows = self.codes.get_indexer(frame["subject_code"])
        cols = month_number(frame["period"]) - self.month0
        keep = (rows >= 0) & (cols >= 0) & (cols < self.months)
        return rows[keep], cols[keep], keep

    def panel(self, frame, field, transform=None):
        """[subject, month] matrix of one field (NaN where there is no record)."""
        matrix = np.full((len(self.codes), self.months), np.nan)
        if frame is None or not len(frame):
            return matrix
        rows, cols, keep = self._positions(frame)
        values = frame[field] if transform is None else transform(frame[field])
        matrix[rows, cols] = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)[keep]
        return matrix

    def panel_sum(self, frame, field, transform=None):
        """Like `panel`, adding up several records of the same subject and month."""
        return self._panel_reduce(frame, field, transform, np.add)

    def panel_max(self, frame, field):
        """Like `panel`, keeping the largest of several records of the same subject and month."""
        return self._panel_reduce(frame, field, None, np.fmax)

    def _panel_reduce(self, frame, field, transform, ufunc):
        matrix = np.full((len(self.codes), self.months), np.nan)
        if frame is None or not len(frame):
            return matrix
        rows, cols, keep = self._positions(frame)
        values = frame[field] if transform is None else transform(frame[field])
        values = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)[keep]
        seen = np.zeros(matrix.shape, dtype=bool)
        seen[rows, cols] = True
        matrix[seen] = 0.0 if ufunc is np.add else -np.inf
        ufunc.at(matrix, (rows, cols), np.nan_to_num(values, nan=0.0))
        return matrix

    def has(self, frame):
        """Whether each target's subject had a monthly record of `frame` whose month ended before its date."""
        if frame is None or not len(frame):
            return np.zeros(len(self.target_codes), dtype=bool)
        first = frame.groupby("subject_code")["period"].min()
        position = pd.Index(first.index).get_indexer(self.target_codes)
        first_month = np.where(position >= 0, month_number(first)[np.maximum(position, 0)], np.iinfo(np.int64).max)
        return (position >= 0) & (first_month < self.cutoff + self.month0)


def latest(window):
    """The most recent known value of a gathered window (column 0 is the newest month)."""
    known = ~np.isnan(window)
    first = np.argmax(known, axis=1)
    value = window[np.arange(len(window)), first]
    return np.where(known.any(axis=1), value, np.nan)


def _negated(values):
    return (~values.astype(bool)).astype(float)


class FrameWindows:
    """The monthly windows the feature formulas read, for many targets, from typed record frames.

    `app.credit.subject.SubjectWindows` answers the same questions for one subject from its raw
    records; the formulas in `features` cannot tell them apart.
    """

    def __init__(self, frames, grid):
        self.frames = frames
        self.grid = grid

    def has(self, source):
        """Whether each target's subject had a record of `source` for a month that ended before its date."""
        return self.grid.has(self.frames.get(source))

    def window(self, source, field, width, how="last", negate=False, where=None):
        """[target, lag] values of a field over the `width` months before each as-of date, newest first.

        `how`: the month's record ("last"), or the sum / max over several records of one month;
        `negate`: a yes/no field turned into 1.0 for "no"; `where`: (column, value) keeps some records.
        """
        frame = self.frames.get(source)
        if frame is not None and where is not None:
            frame = frame[frame[where[0]] == where[1]]
        transform = _negated if negate else None
        if how == "sum":
            matrix = self.grid.panel_sum(frame, field, transform)
        elif how == "max":
            matrix = self.grid.panel_max(frame, field)
        else:
            matrix = self.grid.panel(frame, field, transform)
        return gather(matrix, self.grid, width)

    def by_year(self, source, field, mapping, years):
        """Each target's `mapping[field]` of its `source` record of the given year (NaN if none)."""
        frame = self.frames.get(source)
        if frame is None or not len(frame):
            return np.full(len(years), np.nan)
        table = frame.assign(value=frame[field].map(mapping).astype(float)).set_index(["subject_code", "year"])["value"]
        table = table[~table.index.duplicated(keep="last")]
        return table.reindex(pd.MultiIndex.from_arrays([self.grid.target_codes, years])).to_numpy()


def gather(matrix, grid, width):
    """For each target, the `width` months before its cutoff, newest first: [target, lag]."""
    lags = np.arange(1, width + 1)
    cols = grid.cutoff[:, None] - lags[None, :]
    valid = (grid.rows[:, None] >= 0) & (cols >= 0) & (cols < grid.months)
    rows = np.where(grid.rows >= 0, grid.rows, 0)[:, None]
    values = matrix[rows, np.clip(cols, 0, grid.months - 1)]
    return np.where(valid, values, np.nan)
