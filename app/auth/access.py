"""Who may use each view, declared on the view itself.

The decorators in app/auth/decorators.py enforce; these declarations say what the answer
must be, for each kind of visitor, so that tests/test_authorization_matrix.py can request
every route of the URL map as each of them and hold the app to it. A route without a
declaration fails that test: a new view says who may use it before it ships.

    @bp.get("/rides/<int:ride_id>/raw")
    @access(OWNER, anonymous=LOGIN)
    @login_required
    def raw(ride_id): ...
"""

from __future__ import annotations

from dataclasses import dataclass

# The kinds of visitor. "owner" is the user whose object the request names (their ride,
# their privacy zone); "other user" is a plain user who owns nothing in it.
ANONYMOUS, OWNER, OTHER, OPERATOR, ADMIN = ("anonymous", "owner", "other user", "operator",
                                            "admin")
VISITORS = (ANONYMOUS, OWNER, OTHER, OPERATOR, ADMIN)

EVERYONE = frozenset(VISITORS)
USERS = EVERYONE - {ANONYMOUS}  # every logged-in user, each on their own data
OPERATORS = frozenset({OPERATOR, ADMIN})

LOGIN = "login"  # a page that sends anonymous visitors to log in (302 to /login?next=…)


@dataclass(frozen=True)
class Access:
    """allowed: who may use the view (on a private object, when it names one).
    denied: what logged-in visitors outside `allowed` get (404: private data and pages a
    role may not see do not exist for them).
    anonymous: what an anonymous visitor outside `allowed` gets: LOGIN, 401 (APIs), or
    None for the same as `denied`.
    public: who may use it when the object is public (a public ride, a public layer);
    None when that makes no difference."""
    allowed: frozenset[str]
    denied: int = 404
    anonymous: int | str | None = None
    public: frozenset[str] | None = None

    def answer(self, visitor: str, public_object: bool = False) -> int | str | None:
        """None when the visitor may; else the status (or LOGIN) they must get."""
        allowed = self.public if public_object and self.public is not None else self.allowed
        if visitor in allowed:
            return None
        if visitor == ANONYMOUS and self.anonymous is not None:
            return self.anonymous
        return self.denied


def access(allowed, *, denied: int = 404, anonymous: int | str | None = None,
           public=None):
    rule = Access(frozenset(allowed), denied, anonymous,
                  None if public is None else frozenset(public))

    def declare(view):
        view.access = rule
        return view
    return declare


# Endpoints Flask itself adds, which have no view function of ours to carry a declaration.
FRAMEWORK_RULES = {"static": Access(EVERYONE)}


def rule_of(app, endpoint: str) -> Access | None:
    if endpoint in FRAMEWORK_RULES:
        return FRAMEWORK_RULES[endpoint]
    return getattr(app.view_functions[endpoint], "access", None)
