"""The approver's decision, validated on the server."""

from __future__ import annotations

from django import forms

COMMENT_MAX = 2000


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", "Approve"), ("reject", "Reject"), ("request_changes", "Request changes")],
        error_messages={
            "required": "Choose approve, reject or request changes.",
            "invalid_choice": "Choose approve, reject or request changes.",
        },
    )
    comment = forms.CharField(
        required=False,
        max_length=COMMENT_MAX,
        strip=True,
        error_messages={"max_length": f"Keep the comment under {COMMENT_MAX} characters."},
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("decision") in ("reject", "request_changes") and not data.get("comment"):
            verb = "rejecting" if data["decision"] == "reject" else "asking for changes"
            self.add_error("comment", f"Say why you are {verb}: the initiator reads it on the proposal.")
        return data

    def first_error(self) -> str:
        return next((str(e) for errors in self.errors.values() for e in errors), "")
