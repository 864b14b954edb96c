"""The annualised total cost of a loan (年化综合融资成本) by the IRR method, fees included.

Cash flows of a loan of 1 over n months at nominal annual rate r (c = r / 12 a month):
- at month 0 the firm receives 1 − F, where F = upfront fee + guarantee fee × n / 12 (the guarantee
  fee is a yearly rate charged for the whole term when the loan is made);
- then the payments of the product's repayment method:
  annuity (等额本息): A = c / (1 − (1 + c)^−n) every month;
  equal principal (等额本金): 1/n + c × (outstanding) every month;
  bullet (先息后本): c every month and 1 with the last.
The monthly IRR i solves PV(i) = 1 − F; the annualised rate is 12 × i (the PBoC notice on
disclosing annualised rates admits this simple annualisation). PV has a closed form for each
method, is decreasing and convex in i, so Newton's method from i = c (the root when F = 0) climbs
to the root without overshooting.
"""
import numpy as np

from app.common.vocab import REPAYMENT_METHODS

ANNUITY, EQUAL_PRINCIPAL, BULLET = (REPAYMENT_METHODS.index(m) for m in
                                    ("annuity", "equal_principal", "bullet"))
TOLERANCE = 1e-12
MAX_STEPS = 60


def _newton_step(i, c, n, method, received):
    """One Newton step towards PV(i) = received for loans of one repayment method."""
    v_n = (1 + i) ** -n
    annuity = (1 - v_n) / i
    d_annuity = (n * v_n / (1 + i) - annuity) / i
    if method == ANNUITY:
        payment = c / (1 - (1 + c) ** -n)
        pv, d_pv = payment * annuity, payment * d_annuity
    elif method == BULLET:
        pv, d_pv = c * annuity + v_n, c * d_annuity - n * v_n / (1 + i)
    else:
        pv = annuity / n + c / n * (n - annuity) / i
        d_pv = d_annuity / n - c / n * (d_annuity / i + (n - annuity) / i ** 2)
    return (received - pv) / d_pv


def _monthly_irr(c, n, method, received):
    """Monthly IRR of loans that all use `method`."""
    i = c.copy()
    for _ in range(MAX_STEPS):
        step = _newton_step(i, c, n, method, received)
        i += step
        if np.all(np.abs(step) < TOLERANCE):
            break
    return i


def annualised_rate(rate_pct, months, method, upfront_fee_pct=0.0, guarantee_fee_pct=0.0):
    """APR in % for arrays (or scalars) of nominal rate %, term, method index and fees."""
    c = np.asarray(rate_pct, dtype=np.float64) / 1200
    n = np.asarray(months, dtype=np.float64)
    method = np.asarray(method)
    c, n, method, upfront, guarantee = np.broadcast_arrays(
        c, n, method, np.asarray(upfront_fee_pct, dtype=np.float64), np.asarray(guarantee_fee_pct, dtype=np.float64))
    received = 1 - upfront / 100 - guarantee / 100 * n / 12
    if np.any(received <= 0):
        raise ValueError("fees take the whole loan")
    monthly = c.copy()  # with no fee the IRR is the nominal monthly rate, whatever the method
    for m in (ANNUITY, EQUAL_PRINCIPAL, BULLET):
        charged = (method == m) & (received < 1)
        if charged.any():
            monthly[charged] = _monthly_irr(c[charged], n[charged], m, received[charged])
    return 1200 * monthly


def method_index(name):
    """The position of a repayment method by name."""
    return REPAYMENT_METHODS.index(name)
