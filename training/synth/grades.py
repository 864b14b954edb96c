"""Annual 纳税信用等级 (A/B/M/C/D with points), published each April for the year before."""
import numpy as np

from .tables import Table

GRADES = np.array(list("ABMCD"))
PUBLISHED_MONTH = 4  # grades of year Y are published in April of Y+1


def grade_years(timeline):
    """Evaluation years whose data lies in the window and whose grades are out by its end."""
    years = np.unique(timeline.years)
    end_year, end_month = map(int, timeline.end.split("-"))
    last = end_year - 1 if end_month >= PUBLISHED_MONTH else end_year - 2
    return years[years <= last]


def _points(rng, health, late, arrears, months):
    """Points out of 100 from a year's filings: health, late filings and unpaid tax."""
    filed = months.sum(axis=1)
    mean_h = np.where(filed > 0, np.where(months, health, 0).sum(axis=1) / np.maximum(filed, 1), 0)
    last = np.where(months.any(axis=1), months.shape[1] - 1 - np.argmax(months[:, ::-1], axis=1), 0)
    owing = np.nan_to_num(arrears[np.arange(len(arrears)), last]) > 0
    points = 85 + 6 * mean_h - 4 * (late & months).sum(axis=1) - 12 * owing + rng.normal(0, 4, len(health))
    return np.round(np.clip(points, 0, 100), 1)


def tax_grades(rng, firms, act, observed, dishonest_year, timeline):
    """The grade table and a [firm, month] matrix of the latest published grade (index into GRADES, -1)."""
    n, months = act.health.shape
    filed = ~np.isnan(observed["tax_revenue"])
    visible = np.full((n, months), -1)
    tables = []
    for year in grade_years(timeline):
        in_year = filed & (timeline.years == year)[None, :]
        points = _points(rng, act.health, observed["tax_late"], observed["tax_arrears"], in_year)
        grade = np.select([points >= 90, points >= 70, points >= 40], [0, 1, 3], 4)
        no_revenue = np.nansum(np.where(in_year, observed["tax_revenue"], 0), axis=1) == 0
        new = firms.established.astype("datetime64[Y]").astype(int) + 1970 == year
        grade = np.where(new | (no_revenue & (points >= 70)), 2, grade)
        grade = np.where(dishonest_year == year, 4, grade)  # 失信被执行人 are rated D directly
        rows = np.flatnonzero(in_year.any(axis=1))
        tables.append(Table("tax_grade", {
            "subject_code": firms.code[rows], "year": np.full(len(rows), year), "grade": GRADES[grade[rows]],
            "points": np.where(grade[rows] == 2, np.nan, points[rows])}, np.full(len(rows), year)))
        published = (np.datetime64(f"{year + 1}-{PUBLISHED_MONTH:02d}") - timeline.first).astype(int)
        if published < months:
            visible[rows, max(published, 0):] = grade[rows, None]
    return (Table.concat(tables) if tables else None), visible
