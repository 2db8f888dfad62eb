"""The one error the reassignment services raise for bad input: messages per field, nothing
changed (the service's transaction rolls back)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class ReassignmentError(Exception):
    """``messages``: field -> list of messages (``"__all__"`` for the proposal as a whole)."""

    def __init__(self, messages: Mapping[str, Sequence[str]] | str):
        if isinstance(messages, str):
            messages = {"__all__": [messages]}
        self.messages: dict[str, list[str]] = {field: list(texts) for field, texts in messages.items() if texts}
        super().__init__("; ".join(f"{field}: {' '.join(texts)}" for field, texts in self.messages.items()))

    @classmethod
    def one(cls, field: str, message: str) -> ReassignmentError:
        return cls({field: [message]})
