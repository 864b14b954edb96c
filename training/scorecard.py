"""The baseline every model must beat: a WOE-binned logistic scorecard."""
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression


class WoeScorecard:
    """Quantile bins per feature (missing is its own bin), weight of evidence, logistic regression.

    Parameters
    ----------
    bins : int
        Number of quantile bins per numeric feature.
    smoothing : float
        Pseudo-count added to goods and bads of each bin.
    """

    def __init__(self, bins=8, smoothing=0.5, C=1.0):
        self.bins = bins
        self.smoothing = smoothing
        self.C = C

    def _codes(self, column, edges):
        if edges is None:
            return column.astype("string").fillna("<missing>")
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
        index = np.searchsorted(edges, values, side="right").astype(object)
        index[np.isnan(values)] = "<missing>"
        return pd.Series(index, index=column.index).astype(str)

    def fit(self, X, y):
        """Learn bin edges and WOE per bin on (X, y), then the logistic weights."""
        y = np.asarray(y)
        self.edges_, self.woe_ = {}, {}
        total_bad, total_good = y.sum(), len(y) - y.sum()
        for name in X.columns:
            column = X[name]
            numeric = not isinstance(column.dtype, pd.CategoricalDtype) and pd.api.types.is_numeric_dtype(column)
            edges = np.unique(np.nanquantile(column, np.linspace(0, 1, self.bins + 1)[1:-1])) if (
                numeric and column.notna().any()) else None
            self.edges_[name] = edges
            codes = self._codes(column, edges)
            counts = pd.crosstab(codes, y).reindex(columns=[0, 1], fill_value=0)
            good = (counts[0] + self.smoothing) / (total_good + self.smoothing)
            bad = (counts[1] + self.smoothing) / (total_bad + self.smoothing)
            self.woe_[name] = np.log(bad / good).to_dict()
        self.model_ = LogisticRegression(C=self.C, max_iter=1000).fit(self.transform(X), y)
        return self

    def transform(self, X):
        """WOE values of X (unseen bins get 0)."""
        columns = {name: self._codes(X[name], self.edges_[name]).map(self.woe_[name]).fillna(0.0).to_numpy()
                   for name in self.woe_}
        return pd.DataFrame(columns, index=X.index)

    def predict_proba(self, X):
        """[P(good), P(bad)] per row."""
        return self.model_.predict_proba(self.transform(X))
