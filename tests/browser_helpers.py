"""Helpers shared by the browser tests: the app served on a free port in this process, and
watching and waiting on a page without breaking its Content-Security-Policy."""

from __future__ import annotations

import threading
from contextlib import contextmanager

from werkzeug.serving import make_server

from tests.conftest import free_port, make_app, wait_until


@contextmanager
def live_server(settings_env, **overrides):
    """The app on a free port in a thread of this process; yields its URL."""
    port = free_port()
    app = make_app(settings_env, public_url=f"http://127.0.0.1:{port}", **overrides)
    srv = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.shutdown()
        from app.extensions import db
        with app.app_context():
            db.engine.dispose()


CSP_LISTENER = ("document.addEventListener('securitypolicyviolation', (e) => console.error("
                "`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`));")


def watch_for_errors(page) -> list[str]:
    """Script errors and Content-Security-Policy violations on page, as they happen: the
    CSP (app/security_headers.py) must never block anything a page of ours needs."""
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and "Content Security Policy" in m.text
            and errors.append(m.text))
    page.add_init_script(CSP_LISTENER)
    return errors


def wait_for_js(page, expression: str, timeout: float = 30) -> None:
    """Wait until expression is true in page. Playwright's wait_for_function evaluates a
    string with eval inside the page, which our CSP (rightly) refuses; page.evaluate goes
    through the DevTools protocol, which a page's CSP does not govern."""
    guarded = f"(() => {{ try {{ return !!({expression}); }} catch (e) {{ return false; }} }})()"
    wait_until(lambda: page.evaluate(guarded), timeout, interval=0.2, message=expression)


def logged_in_page(browser, server, app, user_id: int):
    """A page whose session cookie says user_id is logged in: the same signed cookie the
    login callback sets, at the session version of a first login (the login itself is
    tested against the real provider elsewhere)."""
    cookie = app.session_interface.get_signing_serializer(app).dumps({"uid": user_id, "sv": 0})
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.add_cookies([{"name": "session", "value": cookie, "url": server}])
    page = context.new_page()
    return page, watch_for_errors(page)
