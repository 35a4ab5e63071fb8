"""Short-link codes: shape, randomness, and the route pattern they share."""

from __future__ import annotations

import re

from peoplesync.messaging.links.codes import CODE_LENGTH, CODE_PATTERN, is_code, new_code


def test_codes_have_eight_letters_and_digits_with_a_digit() -> None:
    codes = [new_code() for _ in range(2000)]
    assert all(len(code) == CODE_LENGTH and code.isalnum() and code.isascii() for code in codes)
    assert all(any(char.isdigit() for char in code) for code in codes)
    assert all(is_code(code) for code in codes)
    assert len(set(codes)) == len(codes)  # 2,000 draws out of 2 x 10^14 do not repeat
    assert any(char.isupper() for code in codes for char in code)


def test_page_paths_are_never_codes() -> None:
    pages = ["people", "login", "logout", "segments", "imports", "exports", "accounts", "api"]
    pages += ["salesfor", "integrat", "attribut", "health", "static", "favicon.ico"]
    assert not any(is_code(page) for page in pages)
    assert not is_code("Ab3dE9x")  # seven
    assert not is_code("Ab3dE9xYz")  # nine
    assert not is_code("Ab3dE9x!")
    assert is_code("12345678")
    assert re.fullmatch(CODE_PATTERN, "abcdefg1")
