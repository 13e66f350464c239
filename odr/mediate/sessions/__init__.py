"""Mediation sessions: proposed times, picks, invitations, attendance, the session's video room."""
