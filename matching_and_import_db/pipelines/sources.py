"""Where a pipeline may read its source from, and how it is fetched.

An operator names a pipeline's source; the scheduler reads it with its own rights. So a
source is only ever:
- a file inside one of the configured import directories (resolved first: a symlink or a
  `..` that leads out of them is refused, and so is every other path), or
- an http(s) URL whose host resolves to public addresses only. The check runs when each
  connection is made, on the very addresses it connects to (no second DNS lookup an
  attacker could answer differently), on every redirect hop (followed here, not by
  requests), and without environment proxies. Hosts named in the allow-list skip the
  address check (a registry mirror on the local network, the tests' local HTTP server).

Errors say what was refused and why; they never carry what a file or a server holds, since
they end up in run messages, run logs and the scheduler's log.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlparse

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from matching_and_import_db.errors import InputError

# connect, then read: a slow mirror may take minutes for a country extract, not forever
DOWNLOAD_TIMEOUT = (10, 300)
MAX_REDIRECTS = 5
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class SourceRefused(InputError):
    """The source names a place a pipeline may not read from."""


# a planet file is about 80 GB, a large country's extract a few; a download past this is
# refused so a wrong or hostile URL cannot fill the data directory
DEFAULT_MAX_DOWNLOAD_BYTES = 20 * 1024 ** 3
DEFAULT_OVERPASS_URL = "https://overpass-api.de/api/interpreter"


@dataclass(frozen=True)
class SourcePolicy:
    import_dirs: tuple[str, ...] = ()  # absolute, resolved
    allowed_hosts: frozenset[str] = frozenset()  # lower-case host names or addresses
    max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES
    # the Overpass API endpoint dataset pipelines ask (a download like any other)
    overpass_url: str = DEFAULT_OVERPASS_URL

    @classmethod
    def of(cls, import_dirs: str, allowed_hosts: str,
           max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
           overpass_url: str = DEFAULT_OVERPASS_URL) -> SourcePolicy:
        """From the settings' text: directories separated by os.pathsep, hosts by commas."""
        dirs = tuple(os.path.realpath(d) for d in import_dirs.split(os.pathsep) if d.strip())
        hosts = frozenset(_host_key(h) for h in allowed_hosts.split(",") if h.strip())
        return cls(import_dirs=dirs, allowed_hosts=hosts,
                   max_download_bytes=max_download_bytes, overpass_url=overpass_url)

    def host_allowed(self, host: str) -> bool:
        return _host_key(host) in self.allowed_hosts


def _host_key(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def is_url(source: str) -> bool:
    return urlparse(source).scheme.lower() in ("http", "https")


# --- local files -----------------------------------------------------------------------

def local_file(policy: SourcePolicy, source: str, what: str) -> str:
    """The resolved path of a source file inside an import directory. A relative path is
    taken relative to the first import directory."""
    if urlparse(source).scheme and len(urlparse(source).scheme) > 1:
        raise SourceRefused(f"{what} source: only http(s) URLs and files in the import "
                            "directory can be read")
    if "\x00" in source:
        raise SourceRefused(f"{what} source: a path cannot hold a NUL character")
    if not policy.import_dirs:
        raise SourceRefused(f"{what} source {source}: no import directory is configured "
                            "(PORTAL_IMPORT_DIR), so no local file can be read")
    path = os.path.realpath(os.path.join(policy.import_dirs[0], source))
    if not any(os.path.commonpath([path, d]) == d for d in policy.import_dirs):
        raise SourceRefused(f"{what} source {source} is outside the import directory "
                            "(PORTAL_IMPORT_DIR); copy the file there and name it relative "
                            "to it")
    if not os.path.isfile(path):
        raise InputError(f"{what} file not found: {source}")
    return path


# --- downloads -------------------------------------------------------------------------

def refusal(address: str) -> str | None:
    """Why a pipeline may not connect to this address, or None for a public one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return refusal(str(embedded))
    for reason, flag in (("loopback", ip.is_loopback), ("link-local", ip.is_link_local),
                         ("multicast", ip.is_multicast), ("unspecified", ip.is_unspecified),
                         ("reserved", ip.is_reserved), ("private", ip.is_private)):
        if flag:
            return reason
    if not ip.is_global:  # CGNAT 100.64/10 and the other special-purpose ranges
        return "not public"
    return None


def _guarded_connect(policy: SourcePolicy, host: str, port: int, timeout, source_address,
                     socket_options) -> socket.socket:
    """Resolve once, refuse unless every address is public (or the host allow-listed), then
    connect to those very addresses."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, 0, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise SourceRefused(f"the host {host} could not be resolved") from exc
    if not policy.host_allowed(host):
        for *_, sockaddr in infos:
            reason = refusal(sockaddr[0])
            if reason:
                raise SourceRefused(
                    f"the host {host} resolves to a {reason} address ({sockaddr[0]}); "
                    "pipelines fetch only from public addresses unless the host is in "
                    "PORTAL_SOURCE_ALLOWED_HOSTS")
    error: OSError | None = None
    for family, kind, proto, _, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            for level, name, value in socket_options or ():
                sock.setsockopt(level, name, value)
            if isinstance(timeout, int | float):  # else urllib3's "default" sentinel
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            error = exc
            sock.close()
    raise error or OSError(f"no address to connect to for {host}")


def _session(policy: SourcePolicy) -> requests.Session:
    """A requests session whose every connection goes through _guarded_connect."""

    class _Guarded:
        def _new_conn(self):
            return _guarded_connect(policy, self._dns_host, self.port, self.timeout,
                                    self.source_address, self.socket_options)

    http_conn = type("GuardedHTTPConnection", (_Guarded, HTTPConnection), {})
    https_conn = type("GuardedHTTPSConnection", (_Guarded, HTTPSConnection), {})
    http_pool = type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn})
    https_pool = type("GuardedHTTPSPool", (HTTPSConnectionPool,),
                      {"ConnectionCls": https_conn})

    class _Adapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": http_pool,
                                                       "https": https_pool}

    session = requests.Session()
    session.trust_env = False  # no HTTP(S)_PROXY: the connection must go where we checked
    adapter = _Adapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _failure(exc: requests.RequestException) -> str:
    """What went wrong, in our words: a library's message may quote the server's answer."""
    if isinstance(exc, requests.exceptions.SSLError):
        return "the TLS connection failed (certificate or handshake)"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "the connection timed out"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "the server stopped sending (read timeout)"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "the connection failed or the server's answer is not HTTP"
    return f"the download failed ({type(exc).__name__})"


def _too_large(url: str, limit: int) -> str:
    return (f"could not download {url}: it is larger than the {limit:,} bytes a source may "
            "have (PORTAL_SOURCE_MAX_BYTES)")


def download(policy: SourcePolicy, url: str, target: str,
             on_progress: Callable[[int, int | None], None]) -> int:
    """Download url into target, following redirects ourselves (each hop checked);
    returns the bytes written."""
    session = _session(policy)
    try:
        for _ in range(MAX_REDIRECTS + 1):
            if not is_url(url):
                raise SourceRefused("a redirect led to a non-http(s) URL; refused")
            try:
                with session.get(url, stream=True, timeout=DOWNLOAD_TIMEOUT,
                                 allow_redirects=False) as resp:
                    if resp.is_redirect:
                        url = urljoin(url, resp.headers["Location"])
                        continue
                    if resp.status_code >= 400:
                        raise InputError(f"could not download {url}: the server answered "
                                         f"HTTP {resp.status_code}")
                    total = int(resp.headers.get("Content-Length") or 0) or None
                    limit = policy.max_download_bytes
                    if total is not None and total > limit:
                        raise InputError(_too_large(url, limit))
                    done = 0
                    with open(target, "wb") as out:
                        for chunk in resp.iter_content(1 << 20):
                            done += len(chunk)
                            if done > limit:  # a server that sent no length, or lied
                                raise InputError(_too_large(url, limit))
                            out.write(chunk)
                            on_progress(done, total)
                    return done
            except requests.RequestException as exc:
                raise InputError(f"could not download {url}: {_failure(exc)}") from None
            except ValueError as exc:  # a malformed URL or Content-Length
                raise InputError(f"could not download {url}: not a valid URL or "
                                 f"answer ({type(exc).__name__})") from None
        raise InputError(f"could not download the source: more than {MAX_REDIRECTS} "
                         "redirects")
    finally:
        session.close()


# --- small documents fetched often (live feeds) -----------------------------------------

@dataclass(frozen=True)
class Answer:
    """A whole small answer: status 200 with its body, or 304 (not modified, no body)."""
    status: int
    body: bytes
    etag: str | None
    last_modified: str | None
    content_type: str


def guarded_session(policy: SourcePolicy) -> requests.Session:
    """A session whose every new connection is checked as download()'s are; kept by a
    caller that fetches often (a GBFS poller), its connections are reused (keep-alive)."""
    return _session(policy)


def fetch_document(policy: SourcePolicy, url: str, headers: dict[str, str],
                   timeout: float, max_bytes: int,
                   session: requests.Session | None = None) -> Answer:
    """GET a document into memory under the same address checks as download(): redirects
    followed here with each hop checked, at most max_bytes, `timeout` seconds to connect
    and between bytes. Conditional headers (If-None-Match, ...) go in `headers`. With a
    `session` (guarded_session of the same policy) its open connections are reused."""
    own = session is None
    session = session or _session(policy)
    limit = min(max_bytes, policy.max_download_bytes)
    try:
        for _ in range(MAX_REDIRECTS + 1):
            if not is_url(url):
                raise SourceRefused("a redirect led to a non-http(s) URL; refused")
            try:
                with session.get(url, headers=headers, stream=True, timeout=timeout,
                                 allow_redirects=False) as resp:
                    if resp.is_redirect:
                        url = urljoin(url, resp.headers["Location"])
                        continue
                    if resp.status_code == 304:
                        return Answer(304, b"", resp.headers.get("ETag"),
                                      resp.headers.get("Last-Modified"), "")
                    if resp.status_code >= 400:
                        raise InputError(f"the server answered HTTP {resp.status_code}")
                    total = int(resp.headers.get("Content-Length") or 0) or None
                    if total is not None and total > limit:
                        raise InputError(f"the answer is larger than {limit:,} bytes")
                    body = bytearray()
                    for chunk in resp.iter_content(1 << 16):
                        body += chunk
                        if len(body) > limit:
                            raise InputError(f"the answer is larger than {limit:,} bytes")
                    return Answer(resp.status_code, bytes(body), resp.headers.get("ETag"),
                                  resp.headers.get("Last-Modified"),
                                  resp.headers.get("Content-Type", ""))
            except requests.RequestException as exc:
                raise InputError(_failure(exc)) from None
            except ValueError as exc:
                raise InputError(f"not a valid URL or answer ({type(exc).__name__})") from None
        raise InputError(f"more than {MAX_REDIRECTS} redirects")
    finally:
        if own:
            session.close()
