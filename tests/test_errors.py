"""Errors answered in the user's language: NUL characters refused at the door, and database errors
that still escape a view answered 400 / 503 with a message (and logged), never a bare 500."""
import io
import logging
import sqlite3

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError, OperationalError

from app.entities import FinancingNeed
from app.extensions import db

from .conftest import csrf_token, logged_in_client, page_text
from .test_journey import post_form

NEED = {"amount_wan": "50", "term_months": "12", "purpose": "购置设备", "guarantee": "credit", "urgency": "normal"}
NUL_REFUSAL = "提交的内容含有空字符（NUL）"


@pytest.mark.parametrize("field", ["purpose", "amount_wan", "guarantee", "form_token"])
def test_a_nul_in_a_form_field_is_refused_and_nothing_is_saved(app, world, field):
    client = logged_in_client(app, world["users"]["firm"])
    response = post_form(client, "/firm/needs/new", {**NEED, field: "购置\x00设备"})
    assert response.status_code == 400 and NUL_REFUSAL in page_text(response)
    assert db.session.scalar(select(func.count(FinancingNeed.id))) == 1  # the world's own need


def test_a_nul_in_the_login_form_is_refused(app, world):
    response = post_form(app.test_client(), "/login", {"username": "firm\x00", "password": "x"})
    assert response.status_code == 400 and NUL_REFUSAL in page_text(response)


@pytest.mark.parametrize("query", ["town=61%00", "page=1%00", "x%00=1"])
def test_a_nul_in_the_query_string_is_refused(app, world, query):
    client = logged_in_client(app, world["users"]["officer"])
    response = client.get(f"/lender/screening?product_id={world['product'].id}&{query}")
    assert response.status_code == 400 and NUL_REFUSAL in page_text(response)


def test_a_nul_in_a_json_body_is_refused_in_json(app, world):
    client = logged_in_client(app, world["users"]["firm"])
    response = client.get(f"/api/v1/needs/{world['need'].id}/products", json={"note": ["a\x00"]})
    assert response.status_code == 400 and NUL_REFUSAL in response.get_json()["error"]["message"]


def test_a_nul_in_an_uploaded_file_name_is_refused(app, world):
    client = logged_in_client(app, world["users"]["data_admin"])
    token = csrf_token(page_text(client.get("/data/upload")))
    response = client.post("/data/upload", data={"csrf_token": token, "file": (io.BytesIO(b"a,b\n"), "税务\x00.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and NUL_REFUSAL in page_text(response)


def failing_app(app, error):
    """The app with one more page that raises `error` (as a database error escaping a view does)."""

    @app.get("/_raises")
    def raises():
        raise error

    return app


def test_a_data_error_that_escapes_is_a_400_in_the_users_language_and_logged(app, caplog):
    error = DataError("INSERT …", {}, ValueError("numeric field overflow"))
    client = failing_app(app, error).test_client()
    with caplog.at_level(logging.WARNING):
        response = client.get("/_raises")
    assert response.status_code == 400 and "超出可保存的范围或格式" in page_text(response)
    assert "numeric field overflow" in caplog.text
    client.get("/lang/en")
    assert "out of the range or format that can be stored" in page_text(client.get("/_raises"))


def test_a_locked_database_that_escapes_is_a_503_to_retry(app, caplog):
    error = OperationalError("UPDATE …", {}, sqlite3.OperationalError("database is locked"))
    client = failing_app(app, error).test_client()
    with caplog.at_level(logging.WARNING):
        response = client.get("/_raises", headers={"Accept": "application/json"})
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "系统正忙" in response.get_json()["error"]["message"] and "database is locked" in caplog.text


def test_any_other_operational_error_is_still_a_logged_500(app, caplog):
    error = OperationalError("SELECT …", {}, sqlite3.OperationalError("no such table: x"))
    with caplog.at_level(logging.ERROR):
        response = failing_app(app, error).test_client().get("/_raises")
    assert response.status_code == 500 and "no such table" in caplog.text
