"""The HTTP security headers every page and API answer carries (the app's middleware adds them)."""

from __future__ import annotations

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def allowing_forms_to_https(headers: dict[str, str]) -> str:
    """The page policy with form posts to any https origin allowed (the connect form's
    redirect to an org's login page counts as a form action in browsers)."""
    return headers["Content-Security-Policy"].replace(
        "form-action 'self'", "form-action 'self' https:"
    )
