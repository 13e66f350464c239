"""Video rooms: records, Socket.IO signalling, live presence, the aiortc media bridge."""


def init_app(app) -> None:
    """The room pages, where live presence is kept, its audit actions, recordings in the court bundle."""
    from odr.cases.labels import register_actions
    from odr.cases.rooms import register_keeper
    from odr.documents.case_file import register_contribution
    from odr.video import presence, recording, rooms, views

    presence.init_app(app)  # where the rooms' live state is kept: this process, or Redis
    register_actions(rooms.ACTIONS)
    register_keeper(rooms.Keeper())  # mediation and arbitration open their rooms through it
    register_contribution(recording.bundle_recordings)
    app.register_blueprint(views.bp)
    if "socketio" in app.extensions:  # commands that do not serve leave Socket.IO unloaded
        from odr.video import bridge, events

        events.namespace.register(app)  # signalling, room controls, chat
        bridge.register(app)  # the media bridge's own events on the same namespace
