"""Assigning a case to a mediator: the directory, the roster, offers, change requests."""
