"""How a mediation ends: proposals, the agreement or the record of undisputed facts, its PDF and signing,
and the application for judicial confirmation."""
