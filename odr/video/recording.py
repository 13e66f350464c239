"""Recording with consent: the host asks, every participant present answers; the media bridge
records (one file per participant) only while everyone present has said yes."""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from odr.cases import audit
from odr.video.models import SeatState, VideoRoom, VideoSeat


def set_consent(room: VideoRoom, seat: VideoSeat, consent: bool, actor) -> None:
    if seat.consent is not consent:
        seat.consent = consent
        audit.record(room.case, actor, "video_recording_consent", {"room": room.id, "user": seat.user_id,
                                                                    "consent": consent})


def set_wanted(room: VideoRoom, on: bool, actor) -> None:
    if room.recording == on:
        return
    room.recording = on
    if on:  # a new request: everyone is asked again
        for seat in room.seats:
            seat.consent = None
    audit.record(room.case, actor, "video_recording_started" if on else "video_recording_stopped",
                 {"room": room.id})


def may_record(room: VideoRoom, present_ids) -> bool:
    """Recording runs only if the host wants it and every admitted participant present consented."""
    seats = [s for s in room.seats if s.state is SeatState.admitted and s.user_id in present_ids]
    return room.recording and bool(seats) and all(s.consent is True for s in seats)


def recordings_dir(app=None) -> Path:
    app = app or current_app
    return Path(app.config.get("VIDEO_RECORDINGS_DIR") or Path(app.instance_path) / "recordings")


def bundle_recordings(case):
    """The case's recordings for the court bundle (``recordings/``), checked against their hashes."""
    import sqlalchemy as sa

    from odr.documents.case_file import BundleFile, chunks_of_path
    from odr.extensions import db
    from odr.video.models import VideoRecording, VideoRoom

    rows = db.session.scalars(sa.select(VideoRecording).join(VideoRoom).where(VideoRoom.case_id == case.id)
                              .order_by(VideoRecording.id))
    base = recordings_dir()
    return [BundleFile(name=f"recordings/{rec.id:05d}-{rec.filename.replace('/', '-')}",
                       description=f"Recording of room {rec.room_id}, participant {rec.user_id}, "
                                   f"{rec.started_at:%Y-%m-%d %H:%M}–{rec.stopped_at:%H:%M} UTC",
                       media_type="video/x-matroska", open=chunks_of_path(base / rec.filename),
                       expected_sha256=rec.sha256)
            for rec in rows]
