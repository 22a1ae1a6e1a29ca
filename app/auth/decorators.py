from __future__ import annotations

from functools import wraps

from flask import g, redirect, request, url_for
from werkzeug.exceptions import Unauthorized

from matching_and_import_db.errors import NotFound


def role_required(role: str):
    """Anonymous users are sent to log in (401 for the API); users without the role get
    404, so the page does not even reveal that it exists."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = g.get("user")
            if user is None:
                if request.path.startswith("/api/"):
                    raise Unauthorized("log in first")
                return redirect(url_for("auth.login", next=request.full_path))
            if not user.has_role(role):
                raise NotFound("not found")
            return view(*args, **kwargs)
        return wrapped
    return decorator


login_required = role_required("user")
