"""Accounts: argon2id hashing, login, user creation rules and ending every session."""
import re

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from app.auth.forms import RegisterForm
from app.common.errors import InvalidInput, NotAllowed
from app.entities import User
from app.extensions import db
from app.services.accounts import (
    MAX_USERNAME,
    authenticate,
    change_password,
    create_staff,
    create_user,
    end_all_sessions,
    hash_password,
    load_session_user,
    reset_password,
    set_active,
    set_locale,
)

from .. import factories

PASSWORD = factories.PASSWORD
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def user_count():
    return db.session.scalar(select(func.count(User.id)))


# --- hashing ---------------------------------------------------------------------------------

def test_hash_is_argon2id_salted_and_verifiable():
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("$argon2id$")
    assert first != second  # a fresh salt each time
    assert PASSWORD not in first
    assert PasswordHasher().verify(first, PASSWORD)


def test_factory_hash_is_argon2id():
    assert factories.password_hash().startswith("$argon2id$")


# --- authenticate ----------------------------------------------------------------------------

@pytest.fixture
def firm_user(app):
    user = factories.UserFactory(username="chenlu", role="firm", subject=factories.SubjectFactory())
    db.session.commit()
    return user


@pytest.mark.parametrize("username", ["chenlu", "ChenLu", "  CHENLU "])
def test_authenticate_with_the_right_password(firm_user, username):
    assert firm_user.last_login_at is None
    assert authenticate(db.session, username, PASSWORD) == firm_user
    assert firm_user.last_login_at is not None


@pytest.mark.parametrize("password", ["wrong-pass-2026", PASSWORD.lower(), PASSWORD + " ", "", None])
def test_authenticate_with_a_wrong_password(firm_user, password):
    assert authenticate(db.session, "chenlu", password) is None
    assert firm_user.last_login_at is None


@pytest.mark.parametrize("username", ["nobody", "", None])
def test_authenticate_an_unknown_user(firm_user, username):
    assert authenticate(db.session, username, PASSWORD) is None


def test_authenticate_an_inactive_user(firm_user):
    firm_user.active = False
    db.session.commit()
    assert authenticate(db.session, "chenlu", PASSWORD) is None


def test_authenticate_upgrades_an_outdated_hash(firm_user):
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    firm_user.password_hash = weak.hash(PASSWORD)
    db.session.commit()
    assert authenticate(db.session, "chenlu", PASSWORD) == firm_user
    assert firm_user.password_hash.startswith("$argon2id$")
    assert not PasswordHasher().check_needs_rehash(firm_user.password_hash)
    assert PasswordHasher().verify(firm_user.password_hash, PASSWORD)


def test_authenticate_refuses_a_broken_hash(firm_user):
    firm_user.password_hash = "not-a-hash"
    db.session.commit()
    assert authenticate(db.session, "chenlu", PASSWORD) is None


# --- create_user -----------------------------------------------------------------------------

@pytest.fixture
def attachments(app):
    """An institution and a subject users can belong to, and an existing user `taken`."""
    bank = factories.InstitutionFactory()
    subject = factories.SubjectFactory()
    factories.UserFactory(username="taken", role="regulator")
    db.session.commit()
    return {"bank": bank, "subject": subject}


@pytest.mark.parametrize(("role", "attach", "field"), [
    ("lender_officer", {}, "institution"),
    ("lender_admin", {}, "institution"),
    ("lender_officer", {"subject": "subject"}, "institution"),
    ("regulator", {"institution": "bank"}, "institution"),
    ("platform_admin", {"institution": "bank"}, "institution"),
    ("firm", {}, "subject"),
    ("firm", {"institution": "bank"}, "institution"),
    ("data_admin", {"subject": "subject"}, "subject"),
    ("lender_admin", {"institution": "bank", "subject": "subject"}, "subject"),
    ("superuser", {}, "role"),
    ("", {}, "role"),
])
def test_create_user_checks_the_roles_attachments(attachments, role, attach, field):
    kwargs = {key: attachments[value] for key, value in attach.items()}
    with pytest.raises(InvalidInput) as caught:
        create_user(db.session, "newuser", PASSWORD, role, "新用户", **kwargs)
    assert caught.value.field == field
    assert CHINESE.search(caught.value.message)
    assert not db.session.new


@pytest.mark.parametrize("username", ["taken", "TAKEN", "  Taken  "])
def test_create_user_refuses_a_username_in_use_whatever_its_case(attachments, username):
    with pytest.raises(InvalidInput) as caught:
        create_user(db.session, username, PASSWORD, "regulator", "监管员")
    assert caught.value.field == "username"
    assert "已被使用" in caught.value.message
    assert not db.session.new


@pytest.mark.parametrize("username", ["", "   ", "u" * 65])
def test_create_user_refuses_an_empty_or_long_username(attachments, username):
    with pytest.raises(InvalidInput) as caught:
        create_user(db.session, username, PASSWORD, "regulator", "监管员")
    assert caught.value.field == "username"


@pytest.mark.parametrize(("password", "words"), [
    ("", "8"),
    ("Ab1-xyz", "8"),
    ("12345678", "字母和数字"),
    ("2026202620262026", "字母和数字"),
    ("abcdefgh", "字母和数字"),
    ("PasswordOnly", "字母和数字"),
    ("密码密码密码密码", "字母和数字"),
])
def test_create_user_refuses_weak_passwords(attachments, password, words):
    with pytest.raises(InvalidInput) as caught:
        create_user(db.session, "newuser", password, "regulator", "监管员")
    assert caught.value.field == "password"
    assert words in caught.value.message
    assert not db.session.new


def test_create_user_stages_a_user_who_can_log_in(attachments):
    user = create_user(db.session, "  Officer1 ", "Kiln-2026-fire", "lender_officer", "  王审核 ",
                       institution=attachments["bank"])
    db.session.commit()
    stored = db.session.get(User, user.id)
    assert stored.username == "Officer1"
    assert stored.display_name == "王审核"
    assert stored.institution_id == attachments["bank"].id and stored.subject_id is None
    assert stored.password_hash.startswith("$argon2id$")
    assert "Kiln-2026-fire" not in stored.password_hash
    assert stored.active
    assert authenticate(db.session, "officer1", "Kiln-2026-fire") == stored


def test_create_firm_user_with_a_blank_display_name_uses_the_username(attachments):
    user = create_user(db.session, "chenlu", "Kiln-2026-fire", "firm", "   ", subject=attachments["subject"])
    db.session.commit()
    assert user.display_name == "chenlu"
    assert user.subject_id == attachments["subject"].id
    assert user_count() == 2


# --- sessions --------------------------------------------------------------------------------

def test_load_session_user_with_the_current_token(firm_user):
    assert load_session_user(db.session, firm_user.get_id()) == firm_user


def test_end_all_sessions_invalidates_the_old_login(firm_user):
    old_id = firm_user.get_id()
    end_all_sessions(firm_user)
    db.session.commit()
    assert firm_user.get_id() != old_id
    assert load_session_user(db.session, old_id) is None
    assert load_session_user(db.session, firm_user.get_id()) == firm_user


@pytest.mark.parametrize("session_id", [None, "", "abc", ":token", "999999:token", "1", "-1:x"])
def test_load_session_user_refuses_malformed_or_unknown_ids(firm_user, session_id):
    assert load_session_user(db.session, session_id) is None


def test_load_session_user_refuses_a_wrong_token_or_an_inactive_user(firm_user):
    assert load_session_user(db.session, f"{firm_user.id}:{'0' * 32}") is None
    assert load_session_user(db.session, str(firm_user.id)) is None
    current = firm_user.get_id()
    firm_user.active = False
    db.session.commit()
    assert load_session_user(db.session, current) is None


def test_the_username_limit_is_the_services_and_the_forms(app):
    with app.test_request_context():
        form = RegisterForm(meta={"csrf": False})
        assert form.username.validators[1].max == MAX_USERNAME
    with pytest.raises(InvalidInput):
        create_user(db.session, "u" * (MAX_USERNAME + 1), "a-long-password", "regulator", "R")


def test_an_account_made_without_a_password_cannot_log_in(app):
    firm = factories.SubjectFactory()
    user = create_user(db.session, "sim7-firm", None, "firm", "模拟企业", subject=firm)
    db.session.commit()
    assert user.password_hash == "!"
    for password in ("", "!", "Yintai-demo-2026"):
        assert authenticate(db.session, "sim7-firm", password) is None


def test_a_password_change_ends_every_other_session(app, world):
    user = world["users"]["firm"]
    old_session = user.get_id()
    with pytest.raises(InvalidInput, match="当前密码不正确"):
        change_password(db.session, user, "wrong-1234", "Pear-2026-green")
    with pytest.raises(InvalidInput, match="不能与当前密码相同"):
        change_password(db.session, user, PASSWORD, PASSWORD)
    with pytest.raises(InvalidInput, match="至少"):
        change_password(db.session, user, PASSWORD, "short1")
    change_password(db.session, user, PASSWORD, "Pear-2026-green")
    db.session.commit()
    assert load_session_user(db.session, old_session) is None
    assert authenticate(db.session, "firm", "Pear-2026-green") == user


def test_a_reset_gives_a_new_password_and_ends_every_session(app, world):
    user = world["users"]["officer"]
    old_session = user.get_id()
    password = reset_password(db.session, world["users"]["platform_admin"], user)
    db.session.commit()
    assert load_session_user(db.session, old_session) is None
    assert authenticate(db.session, "officer", PASSWORD) is None
    assert authenticate(db.session, "officer", password) == user


def test_deactivation_ends_sessions_and_nobody_deactivates_themselves(app, world):
    admin, officer = world["users"]["platform_admin"], world["users"]["officer"]
    session_id = officer.get_id()
    set_active(db.session, admin, officer, False)
    assert load_session_user(db.session, session_id) is None
    with pytest.raises(NotAllowed):
        set_active(db.session, admin, officer, False)
    with pytest.raises(NotAllowed):
        set_active(db.session, admin, admin, False)
    set_active(db.session, admin, officer, True)
    assert officer.active


def test_the_platform_admin_creates_staff_but_not_firm_users(app, world):
    admin = world["users"]["platform_admin"]
    user, password = create_staff(db.session, admin, "lender_officer", "bank_b_officer", "钱七", world["bank_b"])
    db.session.commit()
    assert user.institution == world["bank_b"] and authenticate(db.session, "bank_b_officer", password) == user
    with pytest.raises(InvalidInput, match="注册或邀请码"):
        create_staff(db.session, admin, "firm", "somefirm", "某")
    with pytest.raises(InvalidInput, match="已被使用"):
        create_staff(db.session, admin, "regulator", "officer", "重名")
    with pytest.raises(InvalidInput, match="机构"):
        create_staff(db.session, admin, "lender_admin", "nobank", "无机构")


def test_the_locale_is_one_of_the_languages():
    user = User(locale=None)
    set_locale(user, "xx", ("zh", "en"))
    assert user.locale is None
    set_locale(user, "en", ("zh", "en"))
    assert user.locale == "en"


def test_a_subjects_first_user_owns_it(app):
    subject = factories.SubjectFactory()
    first = create_user(db.session, "first_user", "Apple-2026-red", "firm", "甲", subject=subject)
    db.session.flush()
    second = create_user(db.session, "second_user", "Apple-2026-red", "firm", "乙", subject=subject)
    assert first.owner and not second.owner
