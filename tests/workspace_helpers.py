"""What workspace tests share besides their fixtures (tests/workspace_fixtures.py): a
fresh signing key for forged or rotated tokens, and the bearer header."""

from __future__ import annotations

from joserfc.jwk import RSAKey


def new_key() -> dict:
    key = RSAKey.generate_key(2048, parameters={"alg": "RS256", "use": "sig"})
    key.ensure_kid()
    return key.as_dict(private=True)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
