"""A logistic scorecard: every feature cut into bins, each bin worth a number of points (a coefficient)."""
import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.model_selection import StratifiedKFold

# The regularisation strengths a cross-validated scorecard chooses from.
CS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)


def _bin_codes(values, edges):
    """Bin index per row; the last index (len(edges) + 1) is missing."""
    values = np.asarray(values, dtype=float)
    codes = np.searchsorted(edges, np.nan_to_num(values), side="right")
    return np.where(np.isnan(values), len(edges) + 1, codes)


def _level_codes(values, levels):
    """Category index per row; the last index (len(levels)) is missing or unknown."""
    if not (isinstance(values, pd.Categorical) and list(values.categories) == list(levels)):
        values = pd.Categorical(np.asarray(values, dtype=object), categories=levels)
    codes = np.asarray(values.codes)
    return np.where(codes < 0, len(levels), codes)


def category_levels(X):
    """Per categorical column of `X` (a DataFrame of floats and Categoricals), its levels in order."""
    return {name: list(X[name].cat.categories) for name in X.columns if isinstance(X[name].dtype, pd.CategoricalDtype)}


def fit_logistic(design, y, C, max_iter):
    """An L2 logistic regression on a design matrix and its strength: `C` itself, or with C = "cv" the one of CS
    with the best stratified 5-fold cross-validated AUC on these rows. Returns (fitted model, C)."""
    if C == "cv":
        folds = StratifiedKFold(5, shuffle=True, random_state=0)
        model = LogisticRegressionCV(Cs=list(CS), cv=folds, scoring="roc_auc", max_iter=max_iter)
        model.fit(design, np.asarray(y))
        return model, float(model.C_[0])
    return LogisticRegression(C=C, max_iter=max_iter).fit(design, np.asarray(y)), float(C)


class BinnedLogisticScorecard(ClassifierMixin, BaseEstimator):
    """Logistic regression on one-hot quantile bins of numbers and levels of categories.

    Parameters
    ----------
    n_bins : int
        Quantile bins per numeric feature (fewer when values repeat); missing is a bin of its own.
    C : float or "cv"
        Inverse L2 regularisation strength of the logistic regression; "cv" picks it from CS by
        stratified 5-fold cross-validated AUC on the rows given to `fit`.
    max_iter : int
        Iterations allowed to the lbfgs solver.

    Attributes
    ----------
    columns_ : list of str
        Feature names seen in `fit`, in order.
    edges_ : dict
        Bin edges per numeric feature.
    levels_ : dict
        Category levels per categorical feature.
    points_ : dict
        Coefficient per bin (numbers) or level (categories), the last entry for missing.
    intercept_ : float
        Log-odds of a row whose every bin is worth nothing.
    classes_ : ndarray
        The two classes, `[0, 1]`.
    """

    def __init__(self, n_bins=10, C=1.0, max_iter=1000):
        self.n_bins = n_bins
        self.C = C
        self.max_iter = max_iter

    def _codes(self, X):
        """Per column, each row's bin or level index and the number of slots the column has."""
        out = []
        for name in self.columns_:
            if name in self.levels_:
                levels = self.levels_[name]
                out.append((_level_codes(X[name].array, levels), len(levels) + 1))
            else:
                edges = self.edges_[name]
                out.append((_bin_codes(X[name].to_numpy(dtype=float), edges), len(edges) + 2))
        return out

    def _design(self, X):
        codes = self._codes(X)
        offsets = np.cumsum([0] + [slots for _, slots in codes])
        cols = np.column_stack([c + offsets[i] for i, (c, _) in enumerate(codes)])
        n = len(X)
        data = np.ones(cols.size)
        rows = np.repeat(np.arange(n), len(codes))
        return sparse.csr_matrix((data, (rows, cols.ravel())), shape=(n, offsets[-1])), offsets

    def fit(self, X, y):
        """Learn bin edges on `X` (a DataFrame of floats and Categoricals) and the points of every bin."""
        self.columns_ = list(X.columns)
        self.levels_ = category_levels(X)
        self.edges_ = {}
        quantiles = np.linspace(0, 1, self.n_bins + 1)[1:-1]
        for name in self.columns_:
            if name not in self.levels_:
                values = X[name].to_numpy(dtype=float)
                present = values[~np.isnan(values)]
                self.edges_[name] = np.unique(np.quantile(present, quantiles)) if len(present) else np.array([])
        design, offsets = self._design(X)
        model, self.C_ = fit_logistic(design, y, self.C, self.max_iter)
        weights = model.coef_.ravel()
        self.points_ = {name: weights[offsets[i]:offsets[i + 1]] for i, name in enumerate(self.columns_)}
        self.intercept_ = float(model.intercept_[0])
        self.classes_ = model.classes_
        return self

    def decision_function(self, X):
        """Log-odds of bad for every row."""
        total = np.full(len(X), self.intercept_)
        for name, (codes, _) in zip(self.columns_, self._codes(X), strict=True):
            total += self.points_[name][codes]
        return total

    def predict_proba(self, X):
        """Probability of each class, columns ordered as `classes_`."""
        bad = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1.0 - bad, bad])

    def to_dict(self):
        """The fitted scorecard as plain JSON-safe data."""
        return {"intercept": self.intercept_, "classes": [int(c) for c in self.classes_], "features": [
            {"name": name, "levels": self.levels_.get(name), "edges": None if name in self.levels_ else
             self.edges_[name].tolist(), "points": self.points_[name].tolist()} for name in self.columns_]}

    @classmethod
    def from_dict(cls, data):
        """A scorecard rebuilt from `to_dict` output, ready to score."""
        card = cls()
        card.columns_ = [f["name"] for f in data["features"]]
        card.levels_ = {f["name"]: f["levels"] for f in data["features"] if f["levels"] is not None}
        card.edges_ = {f["name"]: np.asarray(f["edges"]) for f in data["features"] if f["levels"] is None}
        card.points_ = {f["name"]: np.asarray(f["points"]) for f in data["features"]}
        card.intercept_ = float(data["intercept"])
        card.classes_ = np.asarray(data["classes"])
        return card
