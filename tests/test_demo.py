"""The demo district loads once, and every demo login's home page shows its real data."""
import pytest
from sqlalchemy import select

from app.demo import DEMO_PASSWORD, build_demo, demo_logins
from app.entities import User
from app.extensions import db

from .conftest import page_text
from .test_journey import login

EXPECTED_ON_HOME = {
    "firm_demo": ["陈炉窑火陶瓷有限公司", "陶瓷贷", "已批准"],
    "farmer_demo": ["果农e贷", "已提交"],
    "officer_bank": ["陈炉窑火陶瓷有限公司", "印台红富士果业有限公司", "已拒绝"],
    "officer_microloan": ["暂无申请"],
    "admin_bank": ["陈炉窑火陶瓷有限公司"],
    "regulator": ["印台农商银行（演示）", "市场监测"],
    "dataadmin": ["数据归集", "尚未接收"],
    "platform": ["officer_bank", "铜川惠农小额贷款有限公司（演示）"],
}


def test_demo_loads_once(app):
    assert build_demo(db.session, "610203") is True
    db.session.commit()
    assert build_demo(db.session, "610203") is False


@pytest.mark.parametrize(("role", "username", "display"), demo_logins())
def test_every_demo_login_sees_its_home_with_real_data(app, role, username, display):
    build_demo(db.session, "610203")
    db.session.commit()
    client = app.test_client()
    assert login(client, username, DEMO_PASSWORD).status_code == 302
    home = page_text(client.get("/", follow_redirects=True))
    for text in EXPECTED_ON_HOME[username]:
        assert text in home, (username, text)
    assert db.session.scalars(select(User).where(User.username == username)).one().display_name in home
