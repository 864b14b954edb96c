"""TreeSHAP contributions of one row through LightGBM's single-row fast path.

`Booster.predict` spends more time in Python (parameters, input checks, a predictor made per call)
than in the trees when it is given one row. LightGBM's C API has a path made for this case:
`LGBM_BoosterPredictForMatSingleRowFastInit` prepares the predictor once, then
`LGBM_BoosterPredictForMatSingleRowFast` predicts one row into a buffer. It runs the same predictor
code, so the contributions are the same numbers `predict(row, pred_contrib=True)` returns
(tests/credit/test_subject.py holds the one-row path to the batch). When the library does not offer
the path, `SingleRowContributions.available` is False and callers use `Booster.predict`.
"""
import ctypes
import threading

import numpy as np

try:
    from lightgbm.basic import _LIB, LightGBMError
except ImportError:  # a LightGBM build whose internals moved: the ordinary predict is used
    _LIB = None

PREDICT_CONTRIB = 3  # C_API_PREDICT_CONTRIB
DTYPE_FLOAT64 = 1  # C_API_DTYPE_FLOAT64


def _check(code):
    if code != 0:
        raise LightGBMError(_LIB.LGBM_GetLastError().decode("utf-8"))


class SingleRowContributions:
    """Calls the fast single-row predictor of one booster; one call at a time (it owns one buffer)."""

    def __init__(self, booster, n_features):
        self.n_features = n_features
        self.available = False
        self._lock = threading.Lock()
        self._config = ctypes.c_void_p()
        self._length = ctypes.c_int64()
        self._out = np.empty(n_features + 1, dtype=np.float64)
        self._in = np.empty(n_features, dtype=np.float64)  # each row is copied here: its pointer is made once
        # the pointers ctypes passes, made once (ndarray.ctypes costs a microsecond a call)
        self._in_pointer = self._in.ctypes.data_as(ctypes.c_void_p)
        self._out_pointer = self._out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        self._length_pointer = ctypes.byref(self._length)
        if _LIB is None or not hasattr(_LIB, "LGBM_BoosterPredictForMatSingleRowFastInit"):
            return
        self._booster = booster  # the config points into the booster: keep it alive as long
        _check(_LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
            booster._handle, ctypes.c_int(PREDICT_CONTRIB), ctypes.c_int(0), ctypes.c_int(-1),
            ctypes.c_int(DTYPE_FLOAT64), ctypes.c_int32(n_features), ctypes.c_char_p(b"num_threads=1"),
            ctypes.byref(self._config)))
        self.available = True

    def __call__(self, row, factor=1.0):
        """[1, features + 1] raw contributions of one prepared row (float64, n_features values), each
        multiplied by `factor` (a calibration's slope; 1 leaves them as they are)."""
        row = np.asarray(row, dtype=np.float64)
        if row.size != self.n_features:
            raise ValueError(f"one row of {self.n_features} features expected, got {row.size} values")
        with self._lock:
            np.copyto(self._in, row.reshape(-1))
            _check(_LIB.LGBM_BoosterPredictForMatSingleRowFast(
                self._config, self._in_pointer, self._length_pointer, self._out_pointer))
            return np.multiply(self._out, factor).reshape(1, -1)  # a new array: the buffer is reused

    def of_values(self, values, factor=1.0):
        """__call__ of one row given as a sequence of n_features numbers, copied into the input buffer with
        np.array's conversion to float (None is NaN; pd.NA or text that is no number raise TypeError or
        ValueError, as np.array(values, dtype=float) does): (contributions, the row as a list of floats)."""
        if len(values) != self.n_features:
            raise ValueError(f"one row of {self.n_features} features expected, got {len(values)} values")
        with self._lock:
            self._in[:] = values
            _check(_LIB.LGBM_BoosterPredictForMatSingleRowFast(
                self._config, self._in_pointer, self._length_pointer, self._out_pointer))
            return np.multiply(self._out, factor).reshape(1, -1), self._in.tolist()

    def __del__(self):
        if self.available and _LIB is not None:
            _LIB.LGBM_FastConfigFree(self._config)
