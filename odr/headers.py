"""Security headers on every response: what a page may load and run, who may frame it, what it
tells other sites, and which device features it may use.

- ``Content-Security-Policy``: scripts, styles, images, media and connections from this site
  only — no inline script, handler or style (the templates have none; tests/test_headers.py keeps
  it so), no plugins, no ``<base>``, forms sent here only, and no framing (``frame-ancestors``).
- ``Referrer-Policy: same-origin``: invitation links carry a token in their path, which must not
  reach another site.
- ``Permissions-Policy``: no camera, microphone, geolocation, payment or USB, except camera and
  microphone on the pages whose view is marked with :func:`uses_camera` (the video room), and
  geolocation on those marked with :func:`uses_location` (a grid worker's check-in on the scene).
- ``X-Content-Type-Options: nosniff``, and ``X-Frame-Options: DENY`` for browsers that predate
  ``frame-ancestors``.
"""

from __future__ import annotations

from flask import current_app, request

FEATURES = ("camera", "microphone", "geolocation", "payment", "usb")
#: What a page that uses the camera may use: the camera and microphone, here only.
CAMERA_PAGE = {"camera": "(self)", "microphone": "(self)"}
#: What a page that asks where the phone is may use.
LOCATION_PAGE = {"geolocation": "(self)"}


def uses_camera(view):
    """Mark a view whose page uses the camera and microphone (they are refused everywhere else)."""
    view.odr_uses_camera = True
    return view


def uses_location(view):
    """Mark a view whose page asks for the device's location (refused everywhere else)."""
    view.odr_uses_location = True
    return view


def _content_security_policy() -> str:
    # Socket.IO's websocket to this host: 'self' covers it in current browsers; older Safari
    # needs the ws/wss origin spelled out.
    sockets = f"ws://{request.host} wss://{request.host}"
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "media-src 'self'",
        "font-src 'self'",
        f"connect-src 'self' {sockets}",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def _permissions_policy() -> str:
    view = current_app.view_functions.get(request.endpoint or "")
    allowed = CAMERA_PAGE if getattr(view, "odr_uses_camera", False) else {}
    if getattr(view, "odr_uses_location", False):
        allowed = allowed | LOCATION_PAGE
    return ", ".join(f"{feature}={allowed.get(feature, '()')}" for feature in FEATURES)


def init_app(app) -> None:
    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", _content_security_policy())
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", _permissions_policy())
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        return response
