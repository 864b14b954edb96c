"""The months a district covers, as indices 0..M-1 ending at the `--end` month."""
from dataclasses import dataclass, field

import numpy as np
from numpy.dtypes import StringDType

TEXT = StringDType()


@dataclass(frozen=True)
class Timeline:
    """The window of monthly records: `months` months ending with `end` (YYYY-MM)."""

    end: str
    months: int
    first: np.datetime64 = field(init=False)

    def __post_init__(self):
        end = np.datetime64(self.end, "M")
        object.__setattr__(self, "first", end - (self.months - 1))

    @property
    def month_starts(self):
        """The first day of each month of the window (datetime64[D])."""
        return (self.first + np.arange(self.months)).astype("datetime64[D]")

    @property
    def labels(self):
        """'YYYY-MM' of each month of the window."""
        return (self.first + np.arange(self.months)).astype(str).astype(TEXT)

    @property
    def years(self):
        """The calendar year of each month of the window."""
        return (self.first + np.arange(self.months)).astype("datetime64[Y]").astype(int) + 1970

    @property
    def month_of_year(self):
        """0 for January .. 11 for December, for each month of the window."""
        return (self.first + np.arange(self.months)).astype(int) % 12

    @property
    def end_date(self):
        """The last day of the window."""
        return (np.datetime64(self.end, "M") + 1).astype("datetime64[D]") - 1

    def month_index(self, dates):
        """The window month index of each date (negative before the window)."""
        return (np.asarray(dates).astype("datetime64[M]") - self.first).astype(int)

    def random_days(self, rng, t):
        """A random date inside each window month `t`."""
        t = np.asarray(t)
        starts = (self.first + t).astype("datetime64[D]")
        lengths = ((self.first + t + 1).astype("datetime64[D]") - starts).astype(int)
        return starts + np.floor(rng.random(t.shape) * lengths).astype(int)

    def add_months(self, dates, months):
        """Each date moved by a whole number of months (day clipped to the month's end)."""
        dates = np.asarray(dates, dtype="datetime64[D]")
        target = dates.astype("datetime64[M]") + np.asarray(months)
        day = (dates - dates.astype("datetime64[M]").astype("datetime64[D]")).astype(int)
        last = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(int) - 1
        return target.astype("datetime64[D]") + np.minimum(day, last)
