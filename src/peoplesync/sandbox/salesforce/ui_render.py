"""Rendering the record UI's pages: Jinja2 templates, its stylesheet, strict security headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

HERE = Path(__file__).resolve().parent
STYLESHEET = "/sandbox/ui/ui.css"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

_environment = Environment(
    loader=FileSystemLoader(HERE / "ui_templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def page(
    request: Request, template: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    """A page from ``template`` (``context`` plus the stylesheet's address)."""
    body = _environment.get_template(template).render(
        stylesheet=STYLESHEET, path=request.url.path, **context
    )
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


def redirect(location: str) -> Response:
    """See other (after a form post, or to the login page)."""
    return RedirectResponse(location, status_code=303, headers=SECURITY_HEADERS)


def problem(request: Request, status: int, title: str, detail: str, user: Any = None) -> Response:
    """An error page (not found, forbidden...)."""
    return page(request, "problem.html", {"title": title, "detail": detail, "user": user}, status)


async def stylesheet(request: Request) -> Response:
    """The UI's one stylesheet."""
    return Response(
        (HERE / "ui_static" / "ui.css").read_text(),
        media_type="text/css",
        headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
