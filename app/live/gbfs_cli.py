"""`flask --app app:create_app gbfs add|list`: GBFS feeds from the command line."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from app.live import gbfs_service as service
from matching_and_import_db.errors import DomainError, NotFound

gbfs_cli = AppGroup("gbfs", help="Bike-share feeds (GBFS): add and list.")


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep:
        raise click.BadParameter(f"{text!r}: write a header as 'Name: value'")
    return name.strip(), value.strip()


@gbfs_cli.command("add")
@click.argument("slug")
@click.argument("url")
@click.option("--header", "headers", multiple=True,
              help="A request header, 'Name: value' (Oslo asks for 'Client-Identifier: "
                   "yourcity-portal'); may be given several times.")
@click.option("--language", default=None, help="Which language of a 1.x/2.x gbfs.json.")
@click.option("--if-missing", is_flag=True, help="Do nothing when the feed exists.")
def add(slug, url, headers, language, if_missing):
    """Add a feed by its gbfs.json (or manifest.json, or one file) URL; the scheduler polls it."""
    try:
        if if_missing:
            try:
                service.get_feed(slug)
                click.echo(f"feed {slug} exists")
                return
            except NotFound:
                pass
        feed = service.create_feed(slug, url, dict(_header(h) for h in headers), language)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"added GBFS feed {feed.slug}")


@gbfs_cli.command("list")
def list_():
    """The feeds and their state, as JSON lines."""
    for feed in service.list_feeds():
        click.echo(json.dumps(service.feed_as_dict(feed)))
