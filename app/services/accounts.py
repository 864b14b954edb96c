"""Users: password hashing (argon2id), login, logout, password change and reset, activation, language."""
import re
import secrets
import string
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.common.errors import InvalidInput, NotAllowed
from app.common.vocab import LENDER_ROLES, ROLES
from app.entities import User
from app.entities.base import utcnow
from app.entities.users import FIRM, new_session_token

from . import audit

_hasher = PasswordHasher()  # argon2id with the library's current recommended cost
MIN_PASSWORD_LENGTH = 8
# The hash of an account without a password: no argon2 hash, so no password verifies against it.
NO_PASSWORD = "!"
MAX_USERNAME = 64
MAX_DISPLAY_NAME = 60
USERNAME = re.compile(rf"[A-Za-z0-9_.@-]{{3,{MAX_USERNAME}}}")


def hash_password(password):
    """Hash a password with argon2id."""
    return _hasher.hash(password)


def check_password_strength(password):
    """Refuse passwords that are too short or all one kind of character."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(_("密码至少需要 %(n)d 位。", n=MIN_PASSWORD_LENGTH), "password")
    if not (any(c.isalpha() for c in password) and any(c.isdigit() for c in password)):
        raise InvalidInput(_("密码需同时包含字母和数字。"), "password")


def normalise_username(username):
    """Usernames are ASCII; full-width letters typed with a Chinese input method become ASCII."""
    return unicodedata.normalize("NFKC", username or "").strip()


def find_user(session, username):
    """The user with this username (case-insensitive, ASCII), or None."""
    key = normalise_username(username).lower()
    return session.scalar(select(User).where(func.lower(User.username) == key))


def create_user(session, username, password, role, display_name, institution=None, subject=None):
    """Stage a new user after checking the role's attachments and the password.

    A subject's first firm user is its owner. `password` None makes an account that cannot log in (its
    hash matches no password) until a password is set: one the platform acts for, such as the market
    simulation's firms.
    """
    if role not in ROLES:
        raise InvalidInput(_("未知角色：%(role)s", role=role), "role")
    if (role in LENDER_ROLES) != (institution is not None):
        raise InvalidInput(_("金融机构人员必须且只能属于一个机构。"), "institution")
    if (role == FIRM) != (subject is not None):
        raise InvalidInput(_("融资主体用户必须关联一个信用主体。"), "subject")
    username = normalise_username(username)
    if not USERNAME.fullmatch(username):
        raise InvalidInput(_("用户名为 3–%(n)d 位字母、数字或 _ . - @。", n=MAX_USERNAME), "username")
    if find_user(session, username) is not None:
        raise InvalidInput(_("用户名“%(name)s”已被使用。", name=username), "username")
    if password is not None:
        check_password_strength(password)
    user = User(
        username=username,
        password_hash=NO_PASSWORD if password is None else hash_password(password),
        role=role,
        display_name=display_name.strip()[:MAX_DISPLAY_NAME] or username,
        institution=institution,
        subject=subject,
        # A subject's first user owns its accounts (invites and removes colleagues: docs/accounts.md).
        owner=role == FIRM and not _has_users(session, subject),
    )
    session.add(user)
    return user


def _has_users(session, subject):
    if subject.id is None:
        return False
    return session.scalar(select(User.id).where(User.subject_id == subject.id, User.role == FIRM).limit(1)) is not None


def authenticate(session, username, password):
    """The active user whose password matches (the login audited), or None; upgrades an outdated hash."""
    user = find_user(session, username or "")
    if user is None or not user.active:
        # Spend the same time as a real check so that timing does not reveal usernames.
        _hasher.hash(password or "")
        return None
    try:
        _hasher.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    audit.record(session, user, "login.success", user)
    return user


def register_firm_user(session, subject, username, password, display_name):
    """Stage the first user of a firm that registers itself, audited as its registration."""
    user = create_user(session, username, password, FIRM, display_name, subject=subject)
    session.flush()
    audit.record(session, user, "user.register", user, subject=subject.id)
    return user


def record_failed_login(session, username, locked=False):
    """Stage an audit entry for a refused login: the username tried and why, never the password.

    `locked`: refused by the attempt limits before the password was checked.
    """
    tried = normalise_username(username)[:MAX_USERNAME]
    user = find_user(session, tried) if tried else None
    if locked:
        reason = "locked"
    elif user is None:
        reason = "unknown_user"
    else:
        reason = "wrong_password" if user.active else "inactive"
    return audit.record(session, None, "login.failed", user, target_type="User", username=tried, reason=reason)


def end_all_sessions(user):
    """Rotate the session token so every cookie issued to this user stops working."""
    user.session_token = new_session_token()


def load_session_user(session, session_id):
    """The user named by a Flask-Login id `"<id>:<token>"`, if the token is still current."""
    user_id, _sep, token = (session_id or "").partition(":")
    if not user_id.isdigit():
        return None
    user = session.get(User, int(user_id))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def change_password(session, user, current, new):
    """Stage the user's own change of password; every other session of the user ends.

    The caller logs the current session in again under the new token (it is the user's own).
    """
    try:
        _hasher.verify(user.password_hash, current or "")
    except (VerificationError, InvalidHashError):
        raise InvalidInput(_("当前密码不正确。"), "current") from None
    if new == current:
        raise InvalidInput(_("新密码不能与当前密码相同。"), "password")
    check_password_strength(new or "")
    user.password_hash = hash_password(new)
    user.password_temporary = False
    end_all_sessions(user)
    audit.record(session, user, "user.password_change", user)


def temporary_password():
    """A random password of 12 letters and digits, with at least one of each."""
    alphabet = string.ascii_letters + string.digits
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(12))
        if any(c.isalpha() for c in password) and any(c.isdigit() for c in password):
            return password


def reset_password(session, actor, user):
    """Stage a new temporary password for `user` (returned, shown once, to be changed at the next login) and
    end all their sessions."""
    password = temporary_password()
    user.password_hash = hash_password(password)
    user.password_temporary = True
    end_all_sessions(user)
    audit.record(session, actor, "user.password_reset", user, username=user.username)
    return password


def must_change_password(user):
    """Whether a logged-in user still holds a password an administrator set (changed before anything else)."""
    return bool(getattr(user, "is_authenticated", False) and user.password_temporary)


def set_active(session, actor, user, active):
    """Stage the (de)activation of a user; a deactivated user's sessions end. Nobody deactivates themselves."""
    if user.id == actor.id and not active:
        raise NotAllowed(_("不能停用自己的账户。"))
    if user.active == active:
        raise NotAllowed(_("该账户已处于此状态。"))
    user.active = active
    if not active:
        end_all_sessions(user)
    audit.record(session, actor, "user.activate" if active else "user.deactivate", user, username=user.username)


def set_locale(user, locale, languages):
    """Remember the user's interface language (one of `languages`); anything else is ignored."""
    if locale in languages:
        user.locale = locale


def create_staff(session, actor, role, username, display_name, institution=None):
    """Stage a staff account made by the platform admin, with a generated password; returns (user, password).

    Firm users are not made here: they register, or join their subject with an invitation code.
    """
    if role == FIRM:
        raise InvalidInput(_("融资主体用户通过注册或邀请码加入，不能由管理员直接创建。"), "role")
    password = temporary_password()
    user = create_user(session, username, password, role, display_name,
                       institution=institution if role in LENDER_ROLES else None)
    user.password_temporary = True
    session.flush()
    audit.record(session, actor, "user.create", user, username=user.username, role=role)
    return user, password
