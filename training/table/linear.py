"""A plain logistic regression: numbers clipped and standardised, categories one-hot, blanks flagged.

Beside the binned scorecard it keeps what bins throw away: a number's order within a bin. On a small book
(UCI German credit's 1,000 loans) an L2 logistic on the raw columns is the usual strong baseline.
"""
import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin

from .scorecard import _level_codes, category_levels, fit_logistic


class PlainLogistic(ClassifierMixin, BaseEstimator):
    """L2 logistic regression on standardised numbers and one-hot category levels.

    Parameters
    ----------
    C : float or "cv"
        Inverse L2 regularisation strength; "cv" picks it from scorecard.CS by stratified 5-fold
        cross-validated AUC on the rows given to `fit`.
    clip : float
        Share cut off each tail of every number before standardising: loan amounts and incomes are
        heavy-tailed, and one extreme row should not set a coefficient.
    max_iter : int
        Iterations allowed to the lbfgs solver.

    Attributes
    ----------
    columns_ : list of str
        Feature names seen in `fit`, in order.
    levels_ : dict
        Category levels per categorical feature; a blank or unseen level has a column of its own.
    numbers_ : dict
        Per numeric feature: `low`, `high` (clip bounds), `fill` (the median, for blanks), `mean`,
        `scale`, and `blank` (whether it has a blank indicator: it was blank in some training row).
    coef_ : ndarray
        One weight per design column, in the order `_design` builds them.
    intercept_ : float
        Log-odds of bad for a row at every number's mean and no level.
    classes_ : ndarray
        The two classes, `[0, 1]`.
    """

    def __init__(self, C="cv", clip=0.01, max_iter=1000):
        self.C = C
        self.clip = clip
        self.max_iter = max_iter

    def _design(self, X):
        """Sparse design matrix (CSR): per number its standardised value (and blank flag), per category its
        levels. Sparse because a category may have thousands of levels (book.MAX_LEVELS): dense, a
        1,000,000-row book with a 2,000-level column would need 16 GB for that column alone."""
        n = len(X)
        parts = []
        for name in self.columns_:
            if name in self.levels_:
                levels = self.levels_[name]
                codes = _level_codes(X[name].array, levels)
                parts.append(sparse.csr_matrix((np.ones(n), (np.arange(n), codes)), shape=(n, len(levels) + 1)))
                continue
            spec = self.numbers_[name]
            values = X[name].to_numpy(dtype=float)
            blank = np.isnan(values)
            filled = np.clip(np.where(blank, spec["fill"], values), spec["low"], spec["high"])
            columns = [(filled - spec["mean"]) / spec["scale"]] + ([blank.astype(float)] if spec["blank"] else [])
            parts.append(sparse.csr_matrix(np.column_stack(columns)))
        return sparse.hstack(parts, format="csr") if parts else sparse.csr_matrix((n, 0))

    def _learn_numbers(self, X):
        numbers = {}
        for name in self.columns_:
            if name in self.levels_:
                continue
            values = X[name].to_numpy(dtype=float)
            present = values[~np.isnan(values)]
            if not len(present):
                present = np.zeros(1)
            low, high = np.quantile(present, [self.clip, 1 - self.clip])
            fill = float(np.median(present))
            filled = np.clip(np.where(np.isnan(values), fill, values), low, high)
            scale = float(filled.std())
            numbers[name] = {"low": float(low), "high": float(high), "fill": fill, "mean": float(filled.mean()),
                             "scale": scale if scale > 0 else 1.0, "blank": bool(np.isnan(values).any())}
        return numbers

    def fit(self, X, y):
        """Learn the clipping, filling and scaling of every number on `X`, then the weights."""
        self.columns_ = list(X.columns)
        self.levels_ = category_levels(X)
        self.numbers_ = self._learn_numbers(X)
        design = self._design(X)
        model, self.C_ = fit_logistic(design, y, self.C, self.max_iter)
        self.coef_ = model.coef_.ravel()
        self.intercept_ = float(model.intercept_[0])
        self.classes_ = model.classes_
        return self

    def decision_function(self, X):
        """Log-odds of bad for every row."""
        return np.asarray(self._design(X) @ self.coef_).ravel() + self.intercept_

    def predict_proba(self, X):
        """Probability of each class, columns ordered as `classes_`."""
        bad = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1.0 - bad, bad])

    def to_dict(self):
        """The fitted model as plain JSON-safe data."""
        return {"intercept": self.intercept_, "classes": [int(c) for c in self.classes_], "columns": self.columns_,
                "levels": self.levels_, "numbers": self.numbers_, "coef": self.coef_.tolist()}

    @classmethod
    def from_dict(cls, data):
        """A model rebuilt from `to_dict` output, ready to score."""
        model = cls()
        model.columns_ = list(data["columns"])
        model.levels_ = {name: list(levels) for name, levels in data["levels"].items()}
        model.numbers_ = data["numbers"]
        model.coef_ = np.asarray(data["coef"])
        model.intercept_ = float(data["intercept"])
        model.classes_ = np.asarray(data["classes"])
        return model
