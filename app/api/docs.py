"""The OpenAPI document and a page of our own that shows it (served here: intranets have no internet)."""
import json

from flask import jsonify, render_template, request

from app.api.openapi import document
from app.api.routes import bp
from app.common.language import english


def in_language(text):
    """One side of a bilingual "中文 · English" text: the reader's (the document keeps both)."""
    chinese, _dot, other = text.partition(" · ")
    return (other or chinese) if english() else chinese


@bp.get("/openapi.json")
def openapi_json():
    """The OpenAPI 3.1 document of the token API; public."""
    return jsonify(document(request.script_root + bp.url_prefix))


@bp.get("/docs")
def api_docs():
    """The API's reference: every operation with its scope, parameters, body and answer, and examples."""
    doc = document(request.script_root + bp.url_prefix)
    operations = [(path, method.upper(), op) for path, item in doc["paths"].items() for method, op in item.items()]
    return render_template("api/docs.html", doc=doc, operations=operations,
                           pretty=lambda value: json.dumps(value, ensure_ascii=False, indent=2),
                           in_language=in_language)
