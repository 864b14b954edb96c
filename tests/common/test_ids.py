"""Record ids in URLs and page numbers in query strings: a number no primary key or OFFSET holds is a
404 (or page 1), never a database error (PostgreSQL refused 2³¹ and more with a 500)."""
import re

import pytest
from werkzeug.routing import IntegerConverter

from app.common.ids import MAX_ID, IdConverter, page_number

from .. import factories
from ..conftest import csrf_token, logged_in_client, page_text

OUT_OF_RANGE = ["99999999999999999999", str(2**63), str(2**31), "0", "-1"]


def id_routes(app):
    """(rule, methods) of every route that takes a whole number (a record id)."""
    return [(rule, sorted(rule.methods - {"HEAD", "OPTIONS"})) for rule in app.url_map.iter_rules()
            if any(isinstance(conv, IntegerConverter) for conv in rule._converters.values())]


def test_no_route_takes_an_unbounded_integer(app):
    unbounded = [rule.rule for rule, _methods in id_routes(app)
                 if not all(isinstance(conv, IdConverter) for conv in rule._converters.values()
                            if isinstance(conv, IntegerConverter))]
    assert unbounded == [] and len(id_routes(app)) >= 25


@pytest.mark.parametrize("bad", OUT_OF_RANGE)
def test_every_route_answers_404_for_an_id_out_of_range(app, world, bad):
    for rule, methods in id_routes(app):
        allowed = getattr(app.view_functions[rule.endpoint], "allowed_roles", ("firm",))
        client = logged_in_client(app, next(u for u in world["users"].values() if u.role in allowed))
        url = re.sub(r"<[^>]+>", bad, rule.rule)
        for method in methods:
            response = client.open(url, method=method)
            assert response.status_code == 404, (method, url, response.status_code)


@pytest.mark.parametrize("bad", OUT_OF_RANGE)
def test_ids_in_forms_and_query_strings_are_not_looked_up_out_of_range(app, world, bad):
    officer = logged_in_client(app, world["users"]["officer"])
    assert officer.get(f"/lender/screening?product_id={bad}").status_code in (200, 404)
    admin = logged_in_client(app, world["users"]["lender_admin"])
    token = csrf_token(page_text(admin.get("/lender/")))
    response = admin.post(f"/lender/applications/{world['application'].id}/assign",
                          data={"csrf_token": token, "officer_id": bad})
    assert response.status_code in (302, 404)


@pytest.mark.parametrize("bad", OUT_OF_RANGE)
@pytest.mark.parametrize(("persona", "url"), [("officer", "/lender/"), ("officer", "/lender/ranking"),
                                              ("regulator", "/regulator/overdue")])
def test_a_page_number_out_of_range_shows_the_first_page(app, world, persona, url, bad):
    factories.put_in_status(world, "submitted")
    response = logged_in_client(app, world["users"][persona]).get(f"{url}?page={bad}")
    assert response.status_code == 200


def test_page_number_bounds():
    assert page_number("3") == 3
    for bad in ("0", "-2", str(10**6 + 1), "x"):
        with pytest.raises(ValueError):
            page_number(bad)
    assert MAX_ID == 2**31 - 1
