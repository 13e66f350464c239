"""The OpenAPI document (docs/openapi.yaml) and what the tests check against it: the intake API's
sample transfer, JSON Schema validators for its parts, and ``assert_documented`` for an answer."""

from __future__ import annotations

from pathlib import Path

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from werkzeug.http import parse_options_header

URL = "/api/v1/intake"
SPEC_PATH = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
SPEC_URI = "urn:odr:openapi"

GOOD = {
    "reference": "HL-2026-000042",
    "category": "neighbour",
    "description": "The upstairs neighbour plays loud music every night until 2 a.m.",
    "claim": "Quiet after 22:00 and an apology.",
    "amount_claimed": "1200.50",
    "district": "朝阳区",
    "claimant_name": "Wang Fang",
    "claimant_phone": "138 0013 8000",
    "respondent_name": "Li Lei",
    "respondent_email": "Li.Lei@Example.com",
}


def load_spec() -> dict:
    with SPEC_PATH.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def _pointer(*parts) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def spec_validator(spec, *parts) -> Draft202012Validator:
    """A JSON Schema validator for the schema at ``parts`` inside the document, its ``$ref``s resolved."""
    registry = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(spec))
    return Draft202012Validator({"$ref": SPEC_URI + "#" + _pointer(*parts)}, registry=registry,
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def request_validator(spec):
    return spec_validator(spec, "paths", URL, "post", "requestBody", "content", "application/json", "schema")


def assert_documented(spec, resp, path=URL, method="post"):
    """The answer's status, media type, body and headers are the ones the document promises."""
    responses = spec["paths"][path][method]["responses"]
    status = str(resp.status_code)
    assert status in responses, f"{method.upper()} {path} answered {status}, which is not documented"
    documented = responses[status]
    media_type = parse_options_header(resp.headers["Content-Type"])[0]
    assert media_type in documented["content"], f"{status} answered {media_type}, not {list(documented['content'])}"
    validator = spec_validator(spec, "paths", path, method, "responses", status, "content", media_type, "schema")
    errors = [e.message for e in validator.iter_errors(resp.get_json())]
    assert not errors, f"{status} body does not match the document: {errors}"
    for name, header in documented.get("headers", {}).items():
        where = ("paths", path, method, "responses", status, "headers", name)
        if "$ref" in header:
            where = tuple(header["$ref"].removeprefix("#/").split("/"))
            header = spec["components"]["headers"][where[-1]]
        if header.get("required"):
            assert name in resp.headers, f"{status} lacks the documented {name} header"
        if name in resp.headers:
            spec_validator(spec, *where, "schema").validate(resp.headers[name])
