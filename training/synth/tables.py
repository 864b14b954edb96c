"""Rows of one department export for one chunk, kept as typed column arrays until written."""
from dataclasses import dataclass

import numpy as np

from app.ingest.sources import get_source


@dataclass
class Table:
    """Column arrays named after `Column.name` of the source, and the file (year) of each row.

    Money is in 元 whatever the header says; months are window indices; booleans are bool.
    """

    source: str
    columns: dict
    year: np.ndarray

    def __len__(self):
        return len(self.year)

    @property
    def schema(self):
        """The declared source."""
        return get_source(self.source)

    def take(self, index):
        """The rows at `index`, in that order."""
        return Table(self.source, {k: v[index] for k, v in self.columns.items()}, self.year[index])

    @staticmethod
    def concat(tables):
        """One table of the rows of several tables of the same source."""
        first = tables[0]
        columns = {k: np.concatenate([t.columns[k] for t in tables]) for k in first.columns}
        return Table(first.source, columns, np.concatenate([t.year for t in tables]))


def cells(mask):
    """(firm, month) of every true cell of a [firm, month] mask, firm by firm."""
    return np.nonzero(mask)


def sigmoid(x):
    """The logistic function."""
    return 1 / (1 + np.exp(-x))
