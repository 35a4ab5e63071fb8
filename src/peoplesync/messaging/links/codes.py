"""Short-link codes: eight letters and digits, at least one a digit, drawn with ``secrets``.

62^8 codes (about 2 x 10^14): with a million links stored, a guessed code hits one in about
two hundred million tries. The digit keeps every code apart from the app's own pages
(``/people``, ``/login``, ...), whose first path segment never holds one, so the redirect
route can sit at the root without shadowing them.
"""

from __future__ import annotations

import re
import secrets
import string

CODE_LENGTH = 8
ALPHABET = string.ascii_letters + string.digits
# For the web route (a Starlette convertor) and for checks: the same rule in one place.
CODE_PATTERN = rf"(?=[A-Za-z]*[0-9])[A-Za-z0-9]{{{CODE_LENGTH}}}"
_CODE = re.compile(rf"^{CODE_PATTERN}$")


def new_code() -> str:
    """A fresh random code (unguessable; uniqueness is the store's unique index)."""
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        if any(char.isdigit() for char in code):
            return code


def is_code(value: str) -> bool:
    """Whether ``value`` has the shape of a code."""
    return bool(_CODE.match(value))
