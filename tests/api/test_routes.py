"""The JSON API: same rules as the pages, errors as JSON in the user's language."""
from ..conftest import logged_in_client


def test_health_is_public(client):
    assert client.get("/api/v1/health").get_json() == {"status": "ok"}


def test_anonymous_gets_json_401(client):
    response = client.get("/api/v1/products")
    assert response.status_code == 401
    assert response.get_json()["error"]["message"] == "请先登录。"


def test_products_in_wan(app, world):
    body = logged_in_client(app, world["users"]["firm"]).get("/api/v1/products").get_json()
    product = body["products"][0]
    assert product["amount_min_wan"] == 1.0 and product["amount_max_wan"] == 200.0
    assert product["institution"] == world["bank_a"].name


def test_need_products_only_for_its_owner(app, world):
    need_id = world["need"].id
    own = logged_in_client(app, world["users"]["firm"]).get(f"/api/v1/needs/{need_id}/products")
    assert [m["product"]["id"] for m in own.get_json()["fitting"]] == [world["product"].id]
    other = logged_in_client(app, world["users"]["firm_other"]).get(f"/api/v1/needs/{need_id}/products")
    assert other.status_code == 404 and "error" in other.get_json()


def test_market_summary_is_for_the_regulator(app, world):
    officer = logged_in_client(app, world["users"]["officer"]).get("/api/v1/market/summary")
    assert officer.status_code == 403
    summary = logged_in_client(app, world["users"]["regulator"]).get("/api/v1/market/summary").get_json()
    assert summary["counts"]["applications"] == 1
    by_name = {row["name"]: row for row in summary["institutions"]}
    assert by_name[world["bank_a"].name]["open"] == 1 and by_name[world["bank_b"].name]["applications"] == 0


def test_errors_follow_the_language_switch(app, world):
    client = logged_in_client(app, world["users"]["officer"])
    client.get("/lang/en")
    body = client.get("/api/v1/market/summary").get_json()
    assert body["error"]["status"] == 403 and "permission" in body["error"]["message"].lower()
