"""Machine clients' tokens against the real client-credentials provider: a valid token
works; expired, not yet valid, wrong audience, wrong issuer, an unknown key, `alg: none`,
HS256 signed with the public key, a missing role: each is 401 with WWW-Authenticate; a key
rotation is picked up at once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from werkzeug.datastructures import WWWAuthenticate

from tests.workspace_helpers import bearer, new_key

WORKSPACE = "/api/workspaces/alpha"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(claims: dict, header: dict) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}."


def claims(provider, **extra) -> dict:
    now = int(time.time())
    return {"iss": provider.url, "aud": "portal", "iat": now, "exp": now + 300,
            "client_id": "alpha-sync", "realm_access": {"roles": ["portal_client"]}, **extra}


def refused(resp, error="invalid_token") -> str:
    assert resp.status_code == 401, resp.json
    challenge = WWWAuthenticate.from_header(resp.headers["WWW-Authenticate"])
    assert challenge.type == "bearer" and challenge.parameters["error"] == error, challenge
    return resp.json["error"]["message"]


def test_a_token_from_the_provider_works_and_keycloak_typ_jwt_is_accepted(ws_world):
    token = ws_world.tokens["alpha-sync"]
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["typ"] == "JWT"
    resp = ws_world.app.test_client().get(WORKSPACE, headers=bearer(token))
    assert resp.status_code == 200 and resp.json["role"] == "client"


def test_the_workspace_may_come_from_the_registration_alone(ws_world):
    resp = ws_world.app.test_client().get(WORKSPACE,
                                          headers=bearer(ws_world.tokens["alpha-unnamed"]))
    assert resp.status_code == 200


@pytest.mark.parametrize("change, message", [
    ({"exp": int(time.time()) - 3600}, "expired"),
    ({"nbf": int(time.time()) + 3600}, "not valid yet"),
    ({"aud": "someone-else"}, "audience"),
    ({"iss": "http://127.0.0.1:1/elsewhere"}, "issuer"),
    ({"realm_access": {"roles": ["offline_access"]}}, "role"),
])
def test_tokens_with_bad_claims_are_refused(ws_world, client_provider, change, message):
    token = client_provider.sign(change)
    resp = ws_world.app.test_client().get(WORKSPACE, headers=bearer(token))
    error = "insufficient_scope" if message == "role" else "invalid_token"
    assert message in refused(resp, error)


def test_a_client_without_the_role_gets_a_provider_token_that_is_refused(ws_world):
    resp = ws_world.app.test_client().get(WORKSPACE,
                                          headers=bearer(ws_world.tokens["alpha-norole"]))
    refused(resp, "insufficient_scope")


def test_alg_none_is_refused(ws_world, client_provider):
    token = unsigned(claims(client_provider), {"alg": "none", "typ": "JWT"})
    assert "algorithm" in refused(ws_world.app.test_client().get(WORKSPACE,
                                                                 headers=bearer(token)))


def test_hs256_signed_with_the_public_key_is_refused(ws_world, client_provider):
    public = {k: client_provider.keys[0][k] for k in ("kty", "n", "e", "kid")}
    header = {"alg": "HS256", "typ": "JWT", "kid": public["kid"]}
    signing_input = unsigned(claims(client_provider), header)[:-1]
    for secret in (json.dumps(public).encode(), public["n"].encode()):
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        token = f"{signing_input}.{b64(mac)}"
        resp = ws_world.app.test_client().get(WORKSPACE, headers=bearer(token))
        assert "algorithm" in refused(resp)


def test_a_forged_signature_is_refused(ws_world, client_provider):
    stranger = new_key()  # a key the provider never published, under a published kid
    stranger["kid"] = client_provider.keys[0]["kid"]
    token = client_provider.sign({}, key=stranger)
    assert "signature" in refused(ws_world.app.test_client().get(WORKSPACE,
                                                                 headers=bearer(token)))


def test_an_unknown_key_is_refused_and_a_rotated_key_is_picked_up_at_once(
        ws_world, client_provider, redis):
    client = ws_world.app.test_client()
    assert client.get(WORKSPACE, headers=bearer(ws_world.tokens["alpha-sync"])).status_code \
        == 200  # the key set is cached now
    unknown = new_key()  # never published
    resp = client.get(WORKSPACE, headers=bearer(client_provider.sign({}, key=unknown)))
    assert "does not publish" in refused(resp)
    redis.delete(*redis.keys("jwks:*:refetch"))  # the refetch throttle of the refusal above
    client_provider.rotate()
    fresh = client_provider.token("alpha-sync")  # signed with the new key
    assert client.get(WORKSPACE, headers=bearer(fresh)).status_code == 200


def test_a_malformed_authorization_header_is_refused(ws_world):
    client = ws_world.app.test_client()
    refused(client.get(WORKSPACE, headers={"Authorization": "Bearer not-a-jwt"}))
    refused(client.get(WORKSPACE, headers={"Authorization": "Basic eDp5"}), "invalid_request")


def test_a_valid_client_acting_on_another_workspace_is_403(ws_world):
    resp = ws_world.app.test_client().post(
        "/api/workspaces/beta/datasets/wells/datapoints", json=[],
        headers=bearer(ws_world.tokens["alpha-sync"]))
    assert resp.status_code == 403


def test_readiness_includes_the_issuers_keys(ws_world, client_provider):
    resp = ws_world.app.test_client().get("/readyz")
    assert resp.json["checks"]["client_issuer_jwks"]["ok"] is True
