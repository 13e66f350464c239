"""The web side of the media bridge (``odr media-bridge``): its authenticated connection and
what it is told about rooms. Filled in with the bridge process."""

from __future__ import annotations


def is_bridge_login(auth) -> bool:
    return False


def connected(sid: str) -> None:
    pass


def disconnected(sid: str) -> bool:
    return False


def room_changed(room, views) -> None:
    pass


def room_ended(room) -> None:
    pass
