"""Who may use each workspace route, declared on the view beside the portal-wide @access:
the visitors a workspace knows, and what each must get. tests/test_workspace_matrix.py
requests every workspace route as each of them and holds the app to it."""

from __future__ import annotations

from app.auth.access import LOGIN

ANONYMOUS, VIEWER, EDITOR, OWNER = "anonymous", "viewer", "editor", "owner"
OTHER_MEMBER, CLIENT, OTHER_CLIENT = "other workspace's member", "client", "other client"
VISITORS = (ANONYMOUS, VIEWER, EDITOR, OWNER, OTHER_MEMBER, CLIENT, OTHER_CLIENT)

READERS = frozenset({VIEWER, EDITOR, OWNER, CLIENT})
WRITERS = frozenset({EDITOR, OWNER, CLIENT})
MEMBERS = frozenset({VIEWER, EDITOR, OWNER})  # the browser pages: people, not clients
OWNERS = frozenset({OWNER})
EVERYONE = frozenset(VISITORS)

# what the others get: no credentials 401 (with WWW-Authenticate), another workspace's
# member 404 (its data does not exist for them), a client of another workspace 403 (its
# token is valid, the workspace is not its own), a member without the role 403
REFUSED = {ANONYMOUS: 401, OTHER_MEMBER: 404, OTHER_CLIENT: 403, VIEWER: 403, EDITOR: 403,
           OWNER: 403, CLIENT: 403}
# the browser pages (app/workspaces/pages.py) send whoever is not logged in to log in, a
# machine client's bearer token included: it opens no browser session
PAGE_REFUSED = {ANONYMOUS: LOGIN, CLIENT: LOGIN, OTHER_CLIENT: LOGIN}


def workspace_access(allowed, refused=None):
    allowed = frozenset(allowed)
    answers = {**REFUSED, **(refused or {})}

    def declare(view):
        view.workspace_access = {v: None if v in allowed else answers[v] for v in VISITORS}
        return view
    return declare
