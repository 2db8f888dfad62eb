"""The approval engine: which policy applies to a subject (a reassignment proposal or a plan under
review), who approves each of its steps, and the decisions taken. ``conditions`` (conditions as
data over the impact facts), ``resolve`` (policy and approvers), ``services`` (rounds and
decisions, row-locked), ``selectors`` (the inbox), ``schedules`` (reminders and escalation)."""
