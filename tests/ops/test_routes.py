"""/healthz, /readyz and /metrics: answered without a login, ready only when every part is, metrics for
this machine or a scraper with the token."""
import pytest

from app.entities import ModelVersion
from app.extensions import db

from ..conftest import make_app, page_text


def test_liveness_needs_nothing_but_the_process(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_ready_when_the_database_answers_and_no_model_is_active_yet(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "failing": [],
                                   "checks": {"database": "ok", "model": "ok (none active)"}}


def test_ready_checks_redis_when_it_is_configured(app, redis_url):
    app.config["RATELIMIT_STORAGE_URI"] = redis_url
    response = app.test_client().get("/readyz")
    assert response.status_code == 200 and response.get_json()["checks"]["redis"] == "ok"


@pytest.mark.parametrize("url", ["postgresql://postgres@127.0.0.1:1/nowhere", "sqlite:///{folder}"])
def test_not_ready_names_the_database_when_it_does_not_answer(tmp_path, url):
    broken = make_app(url.format(folder=tmp_path))  # nothing listens on port 1; a folder is no database file
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable" and body["failing"] == ["database"]
    assert body["checks"]["database"].startswith("unavailable") and body["checks"]["model"] == "not checked"


def test_not_ready_names_redis_when_it_is_down(app):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    body = app.test_client().get("/readyz").get_json()
    assert body["failing"] == ["redis"] and body["checks"]["database"] == "ok"


def test_not_ready_when_the_active_model_does_not_load(app):
    db.session.add(ModelVersion(version="v-gone", path="models/v-gone", sha256="0" * 64, is_active=True))
    db.session.commit()
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and response.get_json()["failing"] == ["model"]


def test_metrics_hold_the_latency_histogram_by_endpoint_and_status(client):
    for _ in range(3):
        client.get("/healthz")
    client.get("/no-such-page")
    text = page_text(client.get("/metrics"))
    count = 'yintai_http_request_duration_seconds_count{endpoint="ops.healthz",method="GET",status="200"}'
    assert count in text
    assert float(text.split(count, 1)[1].split()[0]) >= 3
    assert 'yintai_http_request_duration_seconds_count{endpoint="unmatched",method="GET",status="404"}' in text
    assert 'yintai_job_queue_depth{backend="threads"} 0.0' in text


@pytest.mark.parametrize("environ", [{"REMOTE_ADDR": "10.1.2.3"}, {"REMOTE_ADDR": "203.0.113.9"},
                                     {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}])
def test_metrics_are_refused_to_another_machine(client, environ):
    assert client.get("/metrics", environ_base=environ).status_code == 403


def test_a_scraper_elsewhere_needs_the_token(app):
    app.config["METRICS_TOKEN"] = "s3cret-token"
    client = app.test_client()
    away = {"REMOTE_ADDR": "10.1.2.3"}
    assert client.get("/metrics", environ_base=away, headers={"Authorization": "Bearer wrong"}).status_code == 403
    response = client.get("/metrics", environ_base=away, headers={"Authorization": "Bearer s3cret-token"})
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
