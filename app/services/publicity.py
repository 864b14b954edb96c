"""The penalty publicity rules in force today, from the settings (see app/credit/penalties.py)."""
from flask import current_app

from app.common.dates import local_date
from app.credit.penalties import PublicityRules


def publicity_rules(today=None):
    """The PublicityRules of the configured periods (PENALTY_PUBLICITY_MONTHS) as of `today`."""
    return PublicityRules(current_app.config["PENALTY_PUBLICITY_MONTHS"], today or local_date())
