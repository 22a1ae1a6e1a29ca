"""Machine clients' bearer tokens: OAuth2 client-credentials JWTs checked against the
issuer's published keys (JWKS).

The key set is cached in Redis (shared by every web process) and fetched again when a token
names a key id the cache does not hold: that is how a rotated key is picked up at once.
Such a refetch happens at most once per REFETCH_SECONDS per issuer, so tokens with made-up
key ids cannot make us hammer the provider. Only asymmetric algorithms are accepted: `none`
and HS256 (which an attacker could sign with the public key as the secret) never are.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import requests
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

log = logging.getLogger(__name__)

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
# Keycloak sends "JWT"; RFC 9068 providers "at+jwt"
TOKEN_TYPES = ("JWT", "at+jwt", "application/at+jwt")
REFETCH_SECONDS = 10
LEEWAY_SECONDS = 30


class TokenError(Exception):
    """A bearer token that is refused; `code` is the RFC 6750 error for WWW-Authenticate."""

    def __init__(self, description: str, code: str = "invalid_token"):
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass(frozen=True)
class TokenPolicy:
    issuer: str
    audience: str
    roles_claim: str  # dotted path, e.g. realm_access.roles
    required_role: str
    workspace_claim: str
    jwks_cache_seconds: int = 300


@dataclass(frozen=True)
class ClientIdentity:
    """Who a valid token speaks for: the OAuth client id and the workspace slug its token
    names (None: take the client's registration in the portal)."""
    client_id: str
    workspace: str | None
    roles: frozenset[str]


def claim_at(claims: dict, path: str):
    """The value at a dotted claim path (realm_access.roles), or None."""
    value = claims
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


class KeyStore:
    """The issuer's JWKS, cached in Redis."""

    def __init__(self, redis, issuer: str, ttl_seconds: int, timeout: float = 5.0):
        self.redis = redis
        self.issuer = issuer.rstrip("/")
        self.ttl = ttl_seconds
        self.timeout = timeout
        self._key = f"jwks:{self.issuer}"

    def fetch(self) -> dict:
        """The key set as the provider serves it now (discovery, then jwks_uri)."""
        meta = requests.get(self.issuer + "/.well-known/openid-configuration",
                            timeout=self.timeout)
        meta.raise_for_status()
        keys = requests.get(meta.json()["jwks_uri"], timeout=self.timeout)
        keys.raise_for_status()
        data = keys.json()
        if not isinstance(data.get("keys"), list):
            raise ValueError("the issuer's jwks_uri has no key list")
        return data

    def _store(self, data: dict) -> dict:
        self.redis.set(self._key, json.dumps(data), ex=max(1, self.ttl))
        return data

    def cached(self) -> dict:
        raw = self.redis.get(self._key)
        return json.loads(raw) if raw else self._store(self.fetch())

    def refetch(self) -> dict | None:
        """A fresh key set, unless another request fetched one moments ago."""
        if not self.redis.set(self._key + ":refetch", "1", nx=True, ex=REFETCH_SECONDS):
            return None
        return self._store(self.fetch())

    def keys_for(self, kid: str | None) -> KeySet:
        data = self.cached()
        if kid is not None and not any(k.get("kid") == kid for k in data["keys"]):
            data = self.refetch() or data
        usable = [k for k in data["keys"] if k.get("kty") in ("RSA", "EC")
                  and k.get("use", "sig") == "sig"]
        return KeySet.import_key_set({"keys": usable})


def validate(token: str, policy: TokenPolicy, keys: KeyStore) -> ClientIdentity:
    """The client a bearer token speaks for, or TokenError saying what is wrong."""
    try:
        header = jws.extract_compact(token.encode()).protected
    except (JoseError, ValueError, UnicodeError):
        raise TokenError("the token is not a JWS compact serialisation") from None
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise TokenError(f"algorithm {alg!r} is not accepted")
    if header.get("typ", "JWT") not in TOKEN_TYPES:
        raise TokenError(f"token type {header.get('typ')!r} is not an access token")
    kid = header.get("kid")
    try:
        keyset = keys.keys_for(kid)
    except (requests.RequestException, ValueError, KeyError) as exc:
        log.warning("the issuer's keys could not be fetched: %s", type(exc).__name__)
        raise TokenError("the issuer's keys are unavailable", "temporarily_unavailable") \
            from None
    if kid is not None and not any(k.kid == kid for k in keyset.keys):
        raise TokenError("the token is signed with a key the issuer does not publish")
    try:
        decoded = jwt.decode(token, keyset, algorithms=list(ALGORITHMS))
    except JoseError:
        raise TokenError("the token's signature does not verify") from None
    claims = decoded.claims
    registry = jwt.JWTClaimsRegistry(
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": policy.issuer.rstrip("/")},
        exp={"essential": True},
        nbf={"essential": False},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise TokenError(_claim_problem(exc)) from None
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else list(audience or [])
    if policy.audience not in audiences:
        raise TokenError(f"the token is not meant for audience {policy.audience!r}")
    roles_value = claim_at(claims, policy.roles_claim)
    roles = frozenset([roles_value] if isinstance(roles_value, str)
                      else [str(r) for r in roles_value or []])
    if policy.required_role not in roles:
        raise TokenError(f"the token lacks the role {policy.required_role!r}",
                         "insufficient_scope")
    client_id = claims.get("client_id") or claims.get("azp") or claims.get("sub")
    if not isinstance(client_id, str) or not client_id:
        raise TokenError("the token names no client (client_id, azp or sub)")
    workspace = claims.get(policy.workspace_claim)
    return ClientIdentity(client_id, workspace if isinstance(workspace, str) else None, roles)


PROBLEMS = {"exp": "the token has expired", "nbf": "the token is not valid yet",
            "iss": "the token comes from another issuer"}


def _claim_problem(exc: JoseError) -> str:
    return PROBLEMS.get(getattr(exc, "claim", None), "the token's claims are not valid")
