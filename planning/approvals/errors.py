"""The one error the approval services raise for a decision that cannot be taken."""

from __future__ import annotations


class ApprovalError(Exception):
    """A decision that is not the user's to take now (not their turn, already decided, the
    proposal withdrawn or decided meanwhile). ``message`` is shown to the user as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
