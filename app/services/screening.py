"""在线优企筛选: firms whose open needs pass one of a lender's products, best fit first.

Read from the stored matches. A firm appears with its name and need only to an institution it has
released its identity to (a consent for the screening purpose, in force); an underwriting consent
covers its application, not this. To every other institution it is an anonymised profile (industry
section, town, size band, grade, amount and term bands) with no field that identifies it. Each
identified row shown is logged as a view of the firm's data under that screening consent.
"""
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from app.common.dates import local_date
from app.common.errors import InvalidInput
from app.common.region import town_codes
from app.entities import CreditSubject, FinancingNeed
from app.matching.rules import SECTIONS, section_of

from . import consents, matches
from .match_facts import active_lists, latest_scores

AMOUNT_BANDS_WAN = (0, 10, 50, 100, 300, 500, 1000, None)
TERM_BANDS = ((1, 6), (7, 12), (13, 36), (37, None))
FIT_STEP = 5
# The filters of the screening, by their query-string names.
FILTERS = ("town", "industry", "amount_band", "grade")
MAX_ROWS = 200


def band_of(value, edges):
    """The index of the band [edges[k], edges[k+1]) holding `value`."""
    for k in range(len(edges) - 1):
        if edges[k + 1] is None or value < edges[k + 1]:
            return k
    return len(edges) - 2


def amount_band(yuan):
    """The amount band (index into AMOUNT_BANDS_WAN) of an amount in 元."""
    return band_of(float(yuan) / 10_000, AMOUNT_BANDS_WAN)


def term_band(months):
    """The term band (index into TERM_BANDS)."""
    return next(k for k, (lo, hi) in enumerate(TERM_BANDS) if hi is None or lo <= months <= hi)


@dataclass
class Profile:
    """What any lender whose product the firm passes may see: nothing that identifies it."""

    industry_section: str | None
    town: str
    size_class: str | None
    grade: str | None
    amount_band: int
    term_band: int
    fit_band: int
    priority: bool


@dataclass
class ScreenedFirm:
    """A row of the screening: the profile, and the firm and need only under a screening consent."""

    profile: Profile
    consent_id: int | None
    fit: float
    pd: float | None
    # The handle a question about the need (银企线上沟通问答) is asked by; it names nobody.
    need_id: int
    need: FinancingNeed | None = None
    subject: CreditSubject | None = None

    @property
    def identified(self):
        """Whether the firm is shown by name (it released its identity to the institution)."""
        return self.consent_id is not None


def filter_codes():
    """The codes each screening filter takes: towns of the region, industry sections, amount bands, grades."""
    return {"town": tuple(town_codes()), "industry": tuple(SECTIONS),
            "amount_band": tuple(str(k) for k in range(len(AMOUNT_BANDS_WAN) - 1)),
            "grade": tuple(current_app.config["CREDIT_GRADES"])}


def _filter_names():
    return {"town": _("乡镇街道"), "industry": _("行业门类"), "amount_band": _("需求金额"), "grade": _("信用等级")}


def checked_filters(values):
    """The filters given (name → code; blank ones dropped); InvalidInput naming the first unknown code
    or filter, so a filter is never silently not applied."""
    known = filter_codes()
    filters = {}
    for name, value in values.items():
        if not value:
            continue
        if name not in known or value not in known[name]:
            raise InvalidInput(_("%(what)s没有“%(value)s”这一项，请从列表中选择。",
                                 what=_filter_names().get(name, name), value=str(value)[:40]), name)
        filters[name] = value
    return filters


def _passes(profile, filters):
    grades = tuple(current_app.config["CREDIT_GRADES"])
    checks = {
        "town": lambda v: profile.town == v,
        "industry": lambda v: profile.industry_section == v,
        "amount_band": lambda v: str(profile.amount_band) == str(v),
        "grade": lambda v: profile.grade in grades and grades.index(profile.grade) <= grades.index(v),
    }
    return all(checks[name](value) for name, value in filters.items() if value and name in checks)


def screen_product(session, product, user, filters=None):
    """The screening of `product` for the user's institution, filtered by bands, best first; an unknown
    filter code is InvalidInput (see checked_filters)."""
    filters = checked_filters(filters or {})
    rows = matches.eligible_needs(session, product)
    subject_ids = {subject.id for _fit, _need, subject in rows}
    scores = latest_scores(session, subject_ids)
    red = {sid for sid, measures in active_lists(session, subject_ids, local_date()).items()
           if "priority" in measures}
    released = consents.consent_ids_in_force(session, user.institution_id, subject_ids, consents.SCREENING)
    priority_product = bool((product.rules or {}).get("red_list_priority"))
    result = []
    for fit, need, subject in rows:
        grade, pd = scores.get(subject.id, (None, None))
        profile = Profile(section_of(subject.industry_code), subject.town_code, subject.size_class, grade,
                          amount_band(need.amount), term_band(need.term_months),
                          int(round((fit or 0) * 100 / FIT_STEP)) * FIT_STEP, priority_product and subject.id in red)
        if _passes(profile, filters):
            consent_id = released.get(subject.id)
            result.append(ScreenedFirm(profile, consent_id, fit or 0, pd, need.id, need if consent_id else None,
                                       subject if consent_id else None))
    result.sort(key=lambda r: (not r.profile.priority, -r.fit, r.pd if r.pd is not None else 2.0))
    return result[:MAX_ROWS]


def need_profile(session, need):
    """The anonymised profile of one need, as a lender asking about it sees it (no fit: it is not seen
    through one product)."""
    subject = need.subject
    grade, _pd = latest_scores(session, {subject.id}).get(subject.id, (None, None))
    return Profile(section_of(subject.industry_code), subject.town_code, subject.size_class, grade,
                   amount_band(need.amount), term_band(need.term_months), None, False)


def log_views(session, user, product, rows):
    """Record each identified firm shown as a view of its data (查询记录) under its screening consent."""
    consents.log_views(session, user, [(row.subject.id, row.consent_id, f"screening:product:{product.id}")
                                       for row in rows if row.identified])


def profile_json(profile):
    """An anonymised profile as the API shows it (bands, not figures)."""
    low, high = AMOUNT_BANDS_WAN[profile.amount_band], AMOUNT_BANDS_WAN[profile.amount_band + 1]
    term_low, term_high = TERM_BANDS[profile.term_band]
    return {"industry_section": profile.industry_section, "town": profile.town, "size_class": profile.size_class,
            "grade": profile.grade, "amount_band_wan": [low, high], "term_band_months": [term_low, term_high],
            "fit_band": profile.fit_band, "priority": profile.priority}


def row_json(row):
    """A screening row for the API: the profile, plus the firm and need only when identified."""
    data = {"identified": row.identified, "profile": profile_json(row.profile)}
    if row.identified:
        data.update(subject={"name": row.subject.name, "identifier": row.subject.identifier},
                    need={"id": row.need.id, "amount_wan": float(row.need.amount) / 10_000,
                          "term_months": row.need.term_months, "purpose": row.need.purpose},
                    fit=round(row.fit, 4), pd=row.pd)
    return data
