"""The one shape of a refused request: a reason a person can read."""


class Refused(Exception):
    """Base of the domain errors (workflow, cases, sign-in, uploads …); ``reason`` is shown as is.

    A refusal a view does not answer itself reaches the app's handler (``odr.errors``): the
    request's transaction is rolled back and the person gets ``status`` with the reason — 409
    (the state does not allow it), or 422 for the subclasses that refuse bad input.
    """

    status = 409

    def __init__(self, reason):
        super().__init__(str(reason))
        self.reason = reason
