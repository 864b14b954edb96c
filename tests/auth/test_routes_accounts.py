"""Joining an existing subject, a farmer without a code, changing the password, the language kept per user."""
import re
from datetime import timedelta

import pytest
from stdnum.cn import ric

from app.common import idnumbers
from app.entities import User
from app.entities.base import utcnow
from app.entities.users import SUBJECT_CODE
from app.extensions import db
from app.services import invitations

from ..conftest import make_app, page_text
from ..test_journey import login, post_form

BODY = "61020319800101123"
REP_ID = BODY + ric.calc_check_digit(BODY + "0")
WRONG_CHECK = REP_ID[:-1] + ("0" if REP_ID[-1] != "0" else "1")


def issue_code(world, **changes):
    invitation, code = invitations.issue(db.session, SUBJECT_CODE, world["firm"], world["users"]["platform_admin"], 14)
    for name, value in changes.items():
        setattr(invitation, name, value)
    db.session.commit()
    return code


def joining(issued, **overrides):
    return {"code": issued, "id_number": REP_ID, "display_name": "王五", "username": "joiner",
            "password": "Apple-2026-red", "confirm": "Apple-2026-red", **overrides}


def user(username):
    return db.session.scalar(db.select(User).where(User.username == username))


def test_an_existing_subject_joins_with_its_code_and_the_legal_reps_id(app, world):
    world["firm"].legal_rep_id_hash = idnumbers.keyed_hash(REP_ID, app.config["ID_HASH_KEY"])
    code = issue_code(world)
    client = app.test_client()
    response = post_form(client, "/join", joining(code))
    assert response.status_code == 302 and response.headers["Location"].endswith("/firm/")
    assert "陈炉甲陶瓷有限公司" in page_text(client.get("/firm/"))
    assert user("joiner").subject == world["firm"] and user("joiner").owner


@pytest.mark.parametrize(("case", "says"), [
    ("wrong", "邀请码不正确"), ("expired", "已过期"), ("used", "已被使用"), ("check_digit", "校验位"),
    ("other_person", "不一致"), ("duplicate_username", "已被使用"),
])
def test_joining_with_bad_input_is_refused_in_chinese(app, world, case, says):
    world["firm"].legal_rep_id_masked = idnumbers.mask(REP_ID)
    changes = {"expired": {"expires_at": utcnow() - timedelta(hours=1)}, "used": {"used_at": utcnow()}}
    code = issue_code(world, **changes.get(case, {}))
    data = {"wrong": {"code": "ACDE-FGHJ-KMNP"}, "check_digit": {"id_number": WRONG_CHECK},
            "other_person": {"id_number": "61020319900202456" + ric.calc_check_digit("61020319900202456" + "0")},
            "duplicate_username": {"username": "officer"}}.get(case, {})
    response = post_form(app.test_client(), "/join", joining(code, **data))
    assert response.status_code == 400 and says in page_text(response)
    assert user("joiner") is None


def test_the_join_link_fills_in_the_code(app, world):
    code = issue_code(world)
    assert code in page_text(app.test_client().get(f"/join?code={code}"))


def test_joining_is_rate_limited(database_url, world):
    limited = make_app(database_url, REGISTER_RATE_LIMIT="2 per hour")
    client = limited.test_client()
    statuses = [post_form(client, "/join", joining("ACDE-FGHJ-KMNP")).status_code for _ in range(3)]
    assert statuses == [400, 400, 429]


def farmer(**overrides):
    data = {"kind": "farmer", "name": "王建军", "code": "", "town_code": "610203106", "village": "阿庄村",
            "id_number": REP_ID, "display_name": "王建军", "username": "wangjj", "password": "Apple-2026-red",
            "confirm": "Apple-2026-red"}
    return {**data, **overrides}


def test_a_farmer_without_a_code_registers_by_id_number_and_village(app):
    client = app.test_client()
    response = post_form(client, "/register", farmer())
    assert response.status_code == 302
    subject = user("wangjj").subject
    assert subject.household_id is None and subject.village == "阿庄村" and subject.legal_rep_id_masked
    assert user("wangjj").owner


@pytest.mark.parametrize(("changes", "says"), [
    ({"id_number": WRONG_CHECK}, "校验位"), ({"id_number": ""}, "身份证号码"), ({"village": ""}, "所在村"),
    ({"kind": "enterprise"}, "请输入统一社会信用代码"),
    ({"village": "阿庄镇"}, "而不是乡镇（街道）本身"), ({"village": "红土镇某村"}, "写的是红土镇，与所选乡镇"),
])
def test_a_farmer_without_a_code_and_bad_input_is_refused(app, changes, says):
    response = post_form(app.test_client(), "/register", farmer(**changes))
    assert response.status_code == 400 and says in page_text(response)
    assert user("wangjj") is None


def test_an_existing_subject_cannot_register_again_and_is_told_how_to_join(app, world):
    response = post_form(app.test_client(), "/register", farmer(kind="enterprise", code=world["firm"].uscc))
    assert response.status_code == 400 and "邀请码" in page_text(response)


def test_a_password_change_ends_the_other_sessions_but_not_this_one(app, world):
    here, elsewhere = app.test_client(), app.test_client()
    login(here, "firm")
    login(elsewhere, "firm")
    response = post_form(here, "/account/password", {"current": "wrong-pass-1", "password": "Pear-2026-green",
                                                     "confirm": "Pear-2026-green"})
    assert response.status_code == 400 and "当前密码不正确" in page_text(response)
    response = post_form(here, "/account/password", {"current": "Test-pass-2026", "password": "Pear-2026-green",
                                                     "confirm": "Pear-2026-green"})
    assert response.status_code == 302
    assert here.get("/firm/").status_code == 200
    assert elsewhere.get("/firm/").status_code == 302


def test_english_chosen_on_the_login_page_survives_login_and_is_kept_per_user(app, world):
    client = app.test_client()
    client.get("/lang/en")
    login(client, "firm")
    page = page_text(client.get("/firm/"))
    assert re.search(r'<html lang="en"', page)
    assert user("firm").locale == "en"
    # Another browser, no choice made there: the user's language.
    other = app.test_client()
    login(other, "firm")
    assert '<html lang="en"' in page_text(other.get("/firm/"))
    other.get("/lang/zh")
    assert user("firm").locale == "zh"
    assert '<html lang="zh-CN"' in page_text(client.get("/firm/"))


def test_logout_keeps_the_language(app, world):
    client = app.test_client()
    client.get("/lang/en")
    login(client, "firm")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page_text(client.get("/firm/"))).group(1)
    client.post("/logout", data={"csrf_token": token})
    assert '<html lang="en"' in page_text(client.get("/login"))
