"""Absolute links for messages and API answers, inside or outside a request."""

from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for


def absolute_url(endpoint: str, **values) -> str:
    """The full URL of an endpoint, based on ``BASE_URL`` or else on the current request.

    Outside a request (CLI, demo) without ``BASE_URL`` it assumes the local
    embedded server, ``http://127.0.0.1:5000``.
    """
    base = current_app.config.get("BASE_URL")
    if base is None and has_request_context():
        return url_for(endpoint, _external=True, **values)
    parts = urlsplit((base or "http://127.0.0.1:5000").rstrip("/"))
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme)
    return adapter.build(endpoint, values, force_external=True)
