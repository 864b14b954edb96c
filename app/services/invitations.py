"""One-time invitation codes that let a person join a credit subject (docs/accounts.md).

A code is random (12 characters from 30: about 59 bits), so its plain SHA-256 is enough to store:
nobody can try every code, and the rate limit on joining stops trying many. The code itself is shown
once, to whoever issued it.
"""
import hashlib
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from app.common.errors import InvalidInput
from app.entities import Invitation
from app.entities.base import utcnow
from app.entities.users import INVITATION_KINDS, SUBJECT_CODE

from . import audit

# Letters and digits that cannot be misread for one another (no 0/O, 1/I/L, 2/Z, 5/S, 8/B).
ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 12
GROUP = 4


def new_code():
    """A fresh random code, in groups of four: `XXXX-XXXX-XXXX`."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + GROUP] for i in range(0, CODE_LENGTH, GROUP))


def normalise_code(text):
    """Upper case, without dashes or spaces, full-width characters folded to ASCII."""
    text = "".join(chr(ord(c) - 0xFEE0) if "！" <= c <= "～" else c for c in (text or ""))
    return "".join(c for c in text.upper() if c.isalnum())


def digest(code):
    """The stored form of a code."""
    return hashlib.sha256(normalise_code(code).encode("ascii", "replace")).hexdigest()


def issue(session, kind, subject, issued_by, days, now=None):
    """Stage a new code for `subject`; returns (invitation, code). The code is not kept anywhere.

    A new subject code replaces the subject's earlier unused ones: only the latest handed over works.
    """
    if kind not in INVITATION_KINDS:
        raise ValueError(f"unknown invitation kind {kind!r}")
    now = now or utcnow()
    if kind == SUBJECT_CODE:
        for earlier in pending(session, subject.id, SUBJECT_CODE, now):
            earlier.revoked_at = now
    code = new_code()
    invitation = Invitation(kind=kind, subject=subject, code_hash=digest(code), issued_by_id=issued_by.id,
                            issued_at=now, expires_at=now + timedelta(days=days))
    session.add(invitation)
    session.flush()
    audit.record(session, issued_by, f"invitation.issue.{kind}", invitation, subject=subject.name,
                 expires_at=invitation.expires_at.isoformat(timespec="minutes"))
    return invitation, code


def usable(session, code, now=None):
    """The invitation the code opens, or InvalidInput saying why it does not (on the `code` field)."""
    if len(normalise_code(code)) != CODE_LENGTH:
        raise InvalidInput(_("邀请码应为 %(n)d 位字母和数字（如 ACDE-FGHJ-KMNP）。", n=CODE_LENGTH), "code")
    now = now or utcnow()
    invitation = session.scalar(select(Invitation).where(Invitation.code_hash == digest(code)))
    if invitation is None:
        raise InvalidInput(_("邀请码不正确，请核对后重新输入。"), "code")
    if invitation.used_at is not None:
        raise InvalidInput(_("该邀请码已被使用，每个邀请码只能使用一次。"), "code")
    if invitation.revoked_at is not None:
        raise InvalidInput(_("该邀请码已作废，请向发放人索取新的邀请码。"), "code")
    if now >= invitation.expires_at:
        raise InvalidInput(_("该邀请码已过期，请向发放人索取新的邀请码。"), "code")
    return invitation


def mark_used(invitation, user, now=None):
    """Record that `user` joined with the invitation: it opens nothing again."""
    invitation.used_at = now or utcnow()
    invitation.used_by = user


def revoke(session, invitation, actor, now=None):
    """Stage the end of an unused invitation."""
    invitation.revoked_at = now or utcnow()
    audit.record(session, actor, "invitation.revoke", invitation)


def pending(session, subject_id, kind, now=None):
    """The subject's invitations of `kind` that still work, newest first."""
    now = now or utcnow()
    return session.scalars(select(Invitation).where(
        Invitation.subject_id == subject_id, Invitation.kind == kind, Invitation.used_at.is_(None),
        Invitation.revoked_at.is_(None), Invitation.expires_at > now).order_by(Invitation.id.desc())).all()
