"""Institutions: a new one gets the configured response limit unless it gives its own."""
from app.entities import Institution
from app.extensions import db


def test_a_new_institution_gets_the_configured_response_limit(app):
    app.config["DEFAULT_RESPONSE_LIMIT_DAYS"] = 5
    configured = Institution(name="印台新设小贷", kind="microloan")
    own = Institution(name="印台另一银行", kind="bank", response_limit_days=2)
    db.session.add_all([configured, own])
    db.session.commit()
    db.session.expire_all()
    assert (configured.response_limit_days, own.response_limit_days) == (5, 2)
