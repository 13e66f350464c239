"""The one shape of a refused request: a reason a person can read."""


class Refused(Exception):
    """Base of the domain errors (workflow, cases, sign-in, uploads …); ``reason`` is shown as is."""

    def __init__(self, reason):
        super().__init__(str(reason))
        self.reason = reason
