"""The OpenAPI document: valid OpenAPI 3.1, generated from the endpoints, and the API keeps to it under
schemathesis's generated requests (in process, a test token, a few examples per operation)."""
import contextvars

import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis import checks

from app.api.endpoint import ENDPOINTS

from .conftest import make_token

# Examples per operation: 13 operations × this stays well under a minute on both databases.
MAX_EXAMPLES = 8
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_headers_conformance, checks.response_schema_conformance]


def test_the_document_validates_and_names_every_endpoint(client):
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert operations == {(spec.method, spec.path) for spec in ENDPOINTS}
    for item in document["paths"].values():
        for operation in item.values():
            assert operation["responses"]["default"]["content"]["application/problem+json"]
            answer = next(r for code, r in operation["responses"].items() if code != "default")
            assert answer["content"]["application/json"]["example"], operation["operationId"]
            if "requestBody" in operation:
                assert operation["requestBody"]["content"]["application/json"]["example"]


def test_the_docs_page_is_served_from_here(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "POST /applications/{application_id}/approve" in page and "decisions:write" in page
    assert "http://" not in page.replace("http://localhost", "") and "https://" not in page


def test_schemathesis_finds_no_server_error_and_no_answer_off_the_schema(app, world):
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    lender = make_token(world["users"]["lender_admin"])[1]
    regulator = make_token(world["users"]["regulator"], ["market:read"])[1]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    statuses = []
    for result in schema.get_all_operations():
        operation = result.ok()
        _fuzz(operation, regulator if operation.path == "/market/figures" else lender, statuses)
    assert len(statuses) >= len(ENDPOINTS) and 200 in statuses, statuses


def _fuzz(operation, token, statuses):
    @given(case=operation.as_strategy())
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def check(case):
        # Each request in a context of its own, as a server runs it (no `g` shared with the test).
        response = contextvars.Context().run(case.call_and_validate, headers={"Authorization": f"Bearer {token}"},
                                             checks=CHECKS)
        statuses.append(response.status_code)

    check()
