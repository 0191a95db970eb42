"""Cross-site request forgery defence for state-changing requests a browser may send on its own.

Two checks, both required:
- Origin (or, without it, Referer) must be this site's own (the request's Host, or a ``CASEBOOK_TRUSTED_ORIGINS``
  entry); a foreign or opaque ("null") origin is refused.
- A per-session token: HMAC-SHA256 keyed by the session cookie (or, before sign-in, by a random pre-session
  cookie), sent as the ``csrf_token`` form field or the ``X-CSRF-Token`` header. Another site can neither read
  the cookie nor the page that carries the token, so it cannot produce it.

Bearer-token API calls carry their credential in a header that another site cannot make a browser send, so
they are not checked. Why not starlette-csrf: it reads the token from a header only, and Casebook's pages post
plain HTML forms without JavaScript."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import Response
from markupsafe import Markup, escape

from casebook.core.errors import Forbidden

SESSION_COOKIE = "casebook_session"
PRESESSION_COOKIE = "casebook_presession"
FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class CsrfRefused(Forbidden):
    """A state-changing request from another origin or without this session's token: nothing was done."""


def _seed(request: Request) -> str | None:
    return (request.cookies.get(SESSION_COOKIE) or request.cookies.get(PRESESSION_COOKIE)
            or getattr(request.state, "presession", None))


def token_for(seed: str) -> str:
    mac = hmac.digest(seed.encode(), b"casebook csrf v1", hashlib.sha256)
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def csrf_token(request: Request) -> str:
    """This browser's token; starts a pre-session (cookie set by ``remember_presession``) if it has none."""
    seed = _seed(request)
    if seed is None:
        seed = request.state.presession = secrets.token_urlsafe(32)
    return token_for(seed)


def csrf_input(request: Request) -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, escape(csrf_token(request)))


def remember_presession(request: Request, response: Response, *, secure: bool) -> None:
    """Sets the pre-session cookie a page started while rendering its forms."""
    seed = getattr(request.state, "presession", None)
    if seed and not request.cookies.get(PRESESSION_COOKIE):
        response.set_cookie(PRESESSION_COOKIE, seed, httponly=True, samesite="strict", secure=secure)


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return f"{parts.hostname}:{port}"


def _own_origins(request: Request, trusted: list[str]) -> set[str]:
    host = request.headers.get("host", "")
    own = {_origin_of(f"{scheme}://{host}") for scheme in ("http", "https")}
    return {o for o in own | {_origin_of(t) for t in trusted} if o}


def check_origin(request: Request, trusted: list[str]) -> None:
    """Origin, else Referer, must be this site's when the browser sent one."""
    claimed = request.headers.get("origin")
    source = "Origin"
    if claimed is None:
        claimed, source = request.headers.get("referer"), "Referer"
    if claimed is None:
        return
    if _origin_of(claimed) not in _own_origins(request, trusted):
        raise CsrfRefused.of("err_csrf_origin", source=source, origin=claimed[:100])


async def protect(request: Request, trusted: list[str]) -> None:
    """The CSRF rule for one request (see the module docstring); raises ``CsrfRefused``."""
    if request.method in SAFE_METHODS:
        return
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    is_api = request.url.path.startswith("/api/")
    if is_api and SESSION_COOKIE not in request.cookies:
        return                                   # no ambient credential: nothing a forged request could use
    check_origin(request, trusted)
    seed = _seed(request)
    sent = request.headers.get(HEADER)
    if sent is None and not is_api:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            sent = (await request.form()).get(FIELD)
    if seed is None or not isinstance(sent, str) or not hmac.compare_digest(sent, token_for(seed)):
        raise CsrfRefused.of("err_csrf_token")
