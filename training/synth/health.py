"""The hidden monthly health of each firm, which every observable record is drawn from.

health[f, t] = firm mean + firm trend + industry shock + distress + AR(1) noise. Nobody outside
the generator sees it; `_truth/firms.csv` keeps the firm-level part.
"""
import numpy as np

from . import district as d

PHI, SIGMA = 0.75, 0.4  # persistence and monthly innovation of the AR(1) part
SHOCK_START = 0.4  # the coal-era decline starts this far into the window
SHOCK_SLOPE, SHOCK_FLOOR = 0.07, 1.2
DISTRESS_DEPTH, DISTRESS_MONTHS = 1.8, 10


def industry_shock(industry, months):
    """[firm, month] health lost to the decline of coal and the trades that serve it."""
    t = np.arange(months)
    start = int(months * SHOCK_START)
    decline = np.minimum(SHOCK_FLOOR, SHOCK_SLOPE * np.clip(t - start, 0, None))
    return -d.IND_SHOCK[industry][:, None] * decline[None, :]


def latent_health(rng, firms, months):
    """[firm, month] latent health of the chunk's firms."""
    n = len(firms)
    t = np.arange(months)
    noise = np.empty((n, months))
    noise[:, 0] = rng.normal(0, SIGMA / np.sqrt(1 - PHI ** 2), n)
    shocks = rng.normal(0, SIGMA, (n, months))
    for m in range(1, months):
        noise[:, m] = PHI * noise[:, m - 1] + shocks[:, m]
    since = np.where(firms.onset[:, None] >= 0, t[None, :] - firms.onset[:, None], -1)
    distress = -DISTRESS_DEPTH * np.clip(since / DISTRESS_MONTHS, 0, 1)
    trend = firms.trend[:, None] * (t[None, :] - months / 2) / 12
    return firms.mu[:, None] + trend + industry_shock(firms.industry, months) + distress + noise


def smooth(values, alpha=0.35):
    """Exponentially smoothed rows (headcounts and power use follow health with a lag)."""
    out = np.empty_like(values)
    out[:, 0] = values[:, 0]
    for m in range(1, values.shape[1]):
        out[:, m] = alpha * values[:, m] + (1 - alpha) * out[:, m - 1]
    return out


def season(industry, month_of_year):
    """[firm, month] seasonal factor of each firm's industry."""
    return d.SEASON[d.IND_PROFILE[industry]][:, month_of_year]
