"""The OpenAPI 3.1 document of the token API, generated from the endpoints' declarations and the JSON
Schemas pydantic makes of their models (JSON Schema 2020-12, which OpenAPI 3.1 uses as it is)."""
import re

from pydantic.json_schema import models_json_schema

from app.api.bodies import Problem
from app.api.endpoint import ENDPOINTS, WRITES
from app.common.ids import MAX_ID
from app.common.vocab import API_SCOPES

REF = "#/components/schemas/{model}"
PROBLEM_MEDIA = "application/problem+json"
REQUEST_ID_HEADER = {"description": "the request's id (the client's X-Request-ID when it sent a valid one)",
                     "schema": {"type": "string"}}


def _schemas():
    """(JSON Schema of every model by (model, mode), the components' schemas)."""
    pairs = {(Problem, "serialization")}
    for spec in ENDPOINTS:
        if spec.body is not None:
            pairs.add((spec.body, "validation"))
        if spec.answer is not None:
            pairs.add((spec.answer, "serialization"))
    pairs = sorted(pairs, key=lambda pair: (pair[0].__name__, pair[1]))
    refs, top = models_json_schema(pairs, ref_template=REF)
    return refs, top.get("$defs", {})


def _query_parameters(model):
    schema = model.model_json_schema(ref_template=REF)
    return [{"name": name, "in": "query", "required": name in schema.get("required", ()),
             "description": prop.pop("description", ""), "schema": prop}
            for name, prop in schema["properties"].items()]


def _parameters(spec):
    found = [{"name": name, "in": "path", "required": True,
              "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}
             for name in re.findall(r"{(\w+)}", spec.path)]
    if spec.query is not None:
        found += _query_parameters(spec.query)
    if spec.method in WRITES:
        found.append({"name": "Idempotency-Key", "in": "header", "required": True,
                      "description": "a key of the client's for this write; a replay within 24 h returns the "
                                     "first response, the same key with another body is refused (422)",
                      "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"}})
    return found


def _operation(spec, refs):
    doc = (spec.view.__doc__ or "").strip()
    operation = {
        "operationId": spec.view.__name__, "summary": spec.summary,
        "description": f"{doc}\n\nScope · 权限: `{spec.scope}` ({API_SCOPES.label(spec.scope)})",
        "tags": [spec.path.split("/")[1]], "security": [{"bearerToken": []}], "x-scope": spec.scope,
        "parameters": _parameters(spec),
        "responses": {
            str(spec.status): {"description": "OK", "headers": {"X-Request-ID": REQUEST_ID_HEADER},
                               "content": {"application/json": {
                                   "schema": refs[(spec.answer, "serialization")],
                                   "example": spec.examples.get("answer")}}},
            "default": {"description": "problem details (RFC 9457) in Chinese and English",
                        "headers": {"X-Request-ID": REQUEST_ID_HEADER},
                        "content": {PROBLEM_MEDIA: {"schema": refs[(Problem, "serialization")]}}},
        },
    }
    if spec.body is not None:
        media = {"schema": refs[(spec.body, "validation")]}
        if "body" in spec.examples:
            media["example"] = spec.examples["body"]
        operation["requestBody"] = {"required": True, "content": {"application/json": media}}
    return operation


def document(server_url="/api/v1"):
    """The OpenAPI 3.1 document of every token endpoint."""
    refs, schemas = _schemas()
    paths = {}
    for spec in ENDPOINTS:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "印台区数字金融服务平台 API", "version": "1.0.0",
                 "description": "The API for lenders' systems and the province's (docs/api.md). "
                                "Bearer tokens with scopes; writes need an Idempotency-Key; errors are RFC 9457 "
                                "problem details in Chinese and English; every response carries X-Request-ID."},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "bearerToken": {"type": "http", "scheme": "bearer",
                            "description": "a token made by the institution's admin or `flask api token create`"}}},
    }
