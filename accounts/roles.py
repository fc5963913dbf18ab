"""Roles and what each may do (issue 14: reviewer, lead, admin; issue 15: agent).

One table, read by every layer that decides who may see or change something: the web app,
the CLI's review command, audio serving (redacted or original) and unmasking. An unknown
role or permission is refused, never guessed.
"""

from __future__ import annotations

AGENT = "agent"
REVIEWER = "reviewer"
LEAD = "lead"
ADMIN = "admin"
ROLES = (AGENT, REVIEWER, LEAD, ADMIN)

REVIEW = "review"  # confirm or dismiss flags
HEAR_REDACTED = "hear-redacted"  # the recording with personal data toned out (an agent: its own calls only)
HEAR_ORIGINAL = "hear-original"  # the recording as it was
UNMASK = "unmask"  # personal data in clear in transcripts and exports
EDIT_RULES = "edit-rules"
SEE_REPORTS = "see-reports"
MANAGE_USERS = "manage-users"
APPEAL = "appeal"  # an agent contests a confirmed flag on its own call
DECIDE_APPEALS = "decide-appeals"

_GRANTS: dict[str, frozenset[str]] = {
    AGENT: frozenset({HEAR_REDACTED, APPEAL}),
    REVIEWER: frozenset({REVIEW, HEAR_REDACTED}),
    LEAD: frozenset({REVIEW, HEAR_REDACTED, HEAR_ORIGINAL, UNMASK, EDIT_RULES, SEE_REPORTS, DECIDE_APPEALS}),
    ADMIN: frozenset({REVIEW, HEAR_REDACTED, HEAR_ORIGINAL, UNMASK, EDIT_RULES, SEE_REPORTS, DECIDE_APPEALS,
                      MANAGE_USERS}),
}
PERMISSIONS = tuple(sorted(set().union(*_GRANTS.values())))

# What a role may do only on its own calls (calls.agent == the account's agent_id): an agent's.
_OWN_CALLS_ONLY: dict[str, frozenset[str]] = {AGENT: frozenset({HEAR_REDACTED, APPEAL})}


def allowed(role: str, permission: str) -> bool:
    """Whether ``role`` may do ``permission``; False for an unknown role or permission."""
    return permission in _GRANTS.get(role, frozenset())


def own_calls_only(role: str, permission: str) -> bool:
    """Whether ``role`` holds ``permission`` only on calls it took itself (the caller must check the call)."""
    return permission in _OWN_CALLS_ONLY.get(role, frozenset())
