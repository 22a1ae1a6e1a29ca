"""A workspace's owner adds a member in a real Chromium, and the member then finds the
workspace among theirs and opens it with the role they were given."""

from __future__ import annotations

from tests.browser_helpers import logged_in_page
from tests.conftest import login


def test_an_owner_adds_a_member_who_then_sees_the_workspace(browser, server, app,
                                                            oidc_provider, db_conn):
    ids = {}
    for sub in ("olive", "rita"):
        client = app.test_client()
        login(client, oidc_provider, sub, ["user"])
        ids[sub] = client.get("/api/me").json["id"]
    with db_conn, db_conn.cursor() as cur:
        cur.execute("INSERT INTO workspaces (slug, name) VALUES ('acme', 'Acme water') "
                    "RETURNING id")
        cur.execute("INSERT INTO workspace_members (workspace_id, user_id, role) "
                    "VALUES (%s, %s, 'owner')", (cur.fetchone()[0], ids["olive"]))
    owner, owner_errors = logged_in_page(browser, server, app, ids["olive"])
    member, member_errors = logged_in_page(browser, server, app, ids["rita"])

    member.goto(f"{server}/workspaces")
    assert member.locator("#workspace-acme").count() == 0
    assert member.goto(f"{server}/workspaces/acme").status == 404

    owner.goto(f"{server}/workspaces")
    owner.locator("#workspace-acme a").click()
    owner.locator("#add-member input[name=user]").fill("rita")
    owner.locator("#add-member select[name=role]").select_option("editor")
    owner.locator("#add-member button[type=submit]").click()
    owner.locator("p.notice").wait_for()
    assert "Rita added" in owner.locator("p.notice").inner_text()
    assert owner.locator("#member-rita select[name=role]").input_value() == "editor"

    member.goto(f"{server}/workspaces")
    member.locator("#workspace-acme a").click()
    member.locator("#your-role").wait_for()
    assert member.locator("#your-role").inner_text() == "editor"
    assert member.locator("#member-olive").is_visible()
    assert member.locator("#add-member").count() == 0  # the owner's forms are not theirs
    assert not owner_errors, owner_errors
    assert not member_errors, member_errors
