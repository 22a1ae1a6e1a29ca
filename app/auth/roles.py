"""Roles from the provider's claims: a dotted path to a list (or a single string)."""

from __future__ import annotations

from typing import Any

from app.models.users import ROLES
from matching_and_import_db.workspaces.tokens import claim_at  # one reader of claim paths


def role_from_claims(claims: dict[str, Any], path: str) -> str | None:
    """The highest portal role named in the claim; None when the claim is absent."""
    value = claim_at(claims, path)
    if value is None:
        return None
    names = {value} if isinstance(value, str) else {str(v) for v in value}
    granted = [role for role in ROLES if role in names]
    return granted[-1] if granted else "user"
