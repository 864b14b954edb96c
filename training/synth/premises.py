"""Physical traces of business: 水电气 bills and 仓储物流 volumes."""
import numpy as np

from . import district as d
from .tables import Table, cells, sigmoid

UTILITIES = ("水", "电", "燃气")
_PRICE = np.array([(4.6, 0.62, 2.95), (4.6, 0.62, 2.95), (4.6, 0.62, 2.95), (3.2, 0.4983, 2.3)])  # by kind
_MINIMUM = np.array([(30, 500, 200), (8, 150, 80), (50, 600, 200), (5, 120, 40)])  # usage floor by kind


def _meters(rng, firms):
    """[firm, utility] which meters each firm has (water, electricity, gas)."""
    n = len(firms)
    has = firms.coverage["util"]
    water = has & (rng.random(n) < np.where(firms.kind == d.FARMER, 0.6, 0.85))
    kiln = d.IND_GAS[firms.industry] > 0
    heating = rng.random(n) < np.where(firms.kind == d.FARMER, 0.03, 0.25)
    gas = has & ((kiln & (rng.random(n) < 0.9)) | heating)
    return np.stack([water, has, gas], axis=1)


def _usage(rng, firms, act, timeline):
    """[utility, firm, month] consumption: m³ of water, kWh, m³ of gas."""
    revenue_10k = firms.revenue[:, None] / 12 / 1e4
    heat = d.HEATING[timeline.month_of_year][None, :]
    summer = np.isin(timeline.month_of_year, (6, 7))[None, :]
    floor = _MINIMUM[firms.kind]
    base = np.stack([np.maximum(floor[:, 0], d.IND_WATER[firms.industry] * revenue_10k[:, 0]),
                     np.maximum(floor[:, 1], d.IND_KWH[firms.industry] * revenue_10k[:, 0]),
                     np.maximum(floor[:, 2], d.IND_GAS[firms.industry] * revenue_10k[:, 0])])
    kiln = (d.IND_GAS[firms.industry] > 0)[:, None]
    factors = np.stack([np.ones_like(act.physical),
                        np.where(heat, 1.2, np.where(summer, 1.1, 1.0)) * np.ones_like(act.physical),
                        np.where(kiln, 1 + 0.5 * heat, 0.4 + 2.6 * heat)])
    noise = rng.lognormal(0, 0.1, factors.shape)
    return np.round(base[:, :, None] * factors * act.physical[None] * noise, 2)


def utilities(rng, firms, act, timeline):
    """水电气 bills, one row per meter per month, and the [firm, month] worst days late."""
    meters = _meters(rng, firms)
    usage = _usage(rng, firms, act, timeline)
    price = _PRICE[firms.kind].T[:, :, None]
    late = rng.random(usage.shape) < sigmoid(-3.2 - 1.3 * act.health)[None]
    days = np.ceil(rng.exponential(1, usage.shape) * 12 * np.exp(-0.6 * np.minimum(act.health, 0)))
    days = np.where(late, np.clip(days, 1, 180), 0).astype(np.int64)
    mask = meters.T[:, :, None] & act.started[None]
    u, f, t = np.nonzero(mask)
    order = np.lexsort((u, t, f))
    u, f, t = u[order], f[order], t[order]
    table = Table("utilities", {
        "subject_code": firms.code[f], "period": t, "utility": np.array(UTILITIES)[u], "usage": usage[u, f, t],
        "billed": np.round(usage[u, f, t] * price[u, f, 0], 2), "paid_on_time": ~late[u, f, t],
        "days_late": days[u, f, t]}, timeline.years[t])
    worst = np.where(mask, days, 0).max(axis=0)
    return table, {"util_days_late": np.where(act.started & meters.any(axis=1)[:, None], worst, np.nan)}


def logistics(rng, firms, act, timeline):
    """仓储物流 monthly freight and storage of the firms the logistics platform serves."""
    n = len(firms)
    covered = (rng.random(n) < d.IND_LOGISTICS[firms.industry]) & (firms.kind != d.FARMER)
    mask = act.started & covered[:, None]
    freight = d.IND_TONNES[firms.industry][:, None] * act.revenue / 1e4 * rng.lognormal(0, 0.1, act.revenue.shape)
    stores = d.IND_STORES[firms.industry][:, None]
    capacity = firms.revenue[:, None] / 12 / 1e4 * rng.uniform(5, 20, n)[:, None]
    storage = np.where(stores, capacity * d.STORAGE[timeline.month_of_year][None, :] * act.physical,
                       freight * rng.uniform(0.05, 0.3, n)[:, None])
    f, t = cells(mask)
    return Table("logistics", {
        "subject_code": firms.code[f], "period": t, "freight_tonnes": np.round(freight[f, t], 2),
        "storage_tonnes": np.round(storage[f, t], 2)}, timeline.years[t])
