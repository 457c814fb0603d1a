"""The one error type of the explainer: a message for the user and the HTTP status to send.

A request that the explainer cannot serve because of what it asked is an :class:`ExplainError`
(a 4xx). Anything else that escapes a route is a bug in the explainer; the app logs it with its
traceback and answers a short 500 (see ``app.py``).
"""


class ExplainError(ValueError):
    """A request the explainer refuses; the app turns it into ``{"error": message}``.

    Args:
        message: what was wrong, naming the argument, what was expected and what came.
        status: the 4xx status (400 bad argument, 404 unknown id/layer, 413 too large,
            415 not an image, 422 the model could not run it).
    """

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status
