"""Who may see what: the few helpers every route uses; each aborts with 403 or 404."""
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from app.common.ids import is_record_id
from app.credit.registry import versions
from app.entities import (
    Application,
    ComplianceFlag,
    Consent,
    FeedbackUpload,
    FinancingNeed,
    Institution,
    Product,
    User,
)
from app.entities.users import LENDER_OFFICER
from app.extensions import db
from app.services.consents import SCREENING


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


def _get_or_404(model, record_id, visible):
    """The record, when it exists and `visible(record)` holds; 404 otherwise (no hint it exists).

    An id no primary key can hold (from a form or a query string) is not looked up at all."""
    record = db.session.get(model, record_id) if is_record_id(record_id) else None
    if record is None or not visible(record):
        abort(404)
    return record


def _firms_own(record):
    return record.subject_id == current_user.subject_id


def _institutions_own(record):
    return record.institution_id == current_user.institution_id


def own_need_or_404(need_id):
    """The current firm user's need."""
    return _get_or_404(FinancingNeed, need_id, _firms_own)


def own_application_or_404(application_id):
    """The current firm user's application."""
    return _get_or_404(Application, application_id, _firms_own)


def own_consent_or_404(consent_id):
    """One of the current firm user's consents."""
    return _get_or_404(Consent, consent_id, _firms_own)


def own_release_or_404(release_id):
    """One of the current firm user's identity releases (its consents for the screening purpose)."""
    return _get_or_404(Consent, release_id, lambda c: _firms_own(c) and c.purpose_code == SCREENING)


def institution_application_or_404(application_id):
    """An application made to the current lender user's institution."""
    return _get_or_404(Application, application_id, _institutions_own)


def institution_officer_or_404(user_id):
    """An active loan officer of the current lender user's institution."""
    return _get_or_404(User, user_id, lambda u: u.role == LENDER_OFFICER and u.active and _institutions_own(u))


def institution_product_or_404(product_id):
    """A product of the current lender user's institution."""
    return _get_or_404(Product, product_id, _institutions_own)


def institution_feedback_upload_or_404(upload_id):
    """A 贷后反馈 file uploaded by the current lender user's institution."""
    return _get_or_404(FeedbackUpload, upload_id, _institutions_own)


def published_product_or_404(product_id):
    """A published product of an active institution (retired or suspended ones are not found)."""
    return _get_or_404(Product, product_id, lambda p: p.status == "published" and p.institution.active)


def active_institution_or_404(institution_id):
    """An active institution."""
    return _get_or_404(Institution, institution_id, lambda i: i.active)


def compliance_flag_or_404(flag_id):
    """A compliance flag (the regulator's: every flag of every institution)."""
    return _get_or_404(ComplianceFlag, flag_id, lambda f: True)


def registered_version_or_404(root, version):
    """A model version folder of the registry; 404 for any other name."""
    if version not in versions(root):
        abort(404)
    return version
