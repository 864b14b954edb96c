"""Who may see what: the few helpers every route uses; each aborts with 403 or 404."""
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from app.entities import Application, Consent, FinancingNeed, IdentityRelease, Institution, Product
from app.extensions import db


def role_required(*roles):
    """Require a logged-in user of one of `roles`; others get 403, anonymous users the login."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles
        return wrapped

    return decorator


def own_need_or_404(need_id):
    """The current firm user's need; 404 for anyone else's (no hint that it exists)."""
    need = db.session.get(FinancingNeed, need_id)
    if need is None or need.subject_id != current_user.subject_id:
        abort(404)
    return need


def own_application_or_404(application_id):
    """The current firm user's application; 404 otherwise."""
    application = db.session.get(Application, application_id)
    if application is None or application.subject_id != current_user.subject_id:
        abort(404)
    return application


def institution_application_or_404(application_id):
    """An application made to the current lender user's institution; 404 otherwise."""
    application = db.session.get(Application, application_id)
    if application is None or application.institution_id != current_user.institution_id:
        abort(404)
    return application


def institution_product_or_404(product_id):
    """A product of the current lender user's institution; 404 otherwise."""
    product = db.session.get(Product, product_id)
    if product is None or product.institution_id != current_user.institution_id:
        abort(404)
    return product


def published_product_or_404(product_id):
    """A published product of an active institution; 404 when retired, suspended or unknown."""
    product = db.session.get(Product, product_id)
    if product is None or product.status != "published" or not product.institution.active:
        abort(404)
    return product


def own_consent_or_404(consent_id):
    """One of the current firm user's consents; 404 otherwise."""
    consent = db.session.get(Consent, consent_id)
    if consent is None or consent.subject_id != current_user.subject_id:
        abort(404)
    return consent


def own_release_or_404(release_id):
    """One of the current firm user's identity releases; 404 otherwise."""
    release = db.session.get(IdentityRelease, release_id)
    if release is None or release.subject_id != current_user.subject_id:
        abort(404)
    return release


def active_institution_or_404(institution_id):
    """An active institution; 404 when suspended or unknown."""
    institution = db.session.get(Institution, institution_id)
    if institution is None or not institution.active:
        abort(404)
    return institution
