"""Seeded email addresses spell names in ASCII, the way the org's email check wants them."""

from __future__ import annotations

import random

import pytest

from peoplesync.sandbox.salesforce.seed import _address_part, _email


@pytest.mark.parametrize(
    ("name", "spelled"),
    [
        ("Božanić", "Bozanic"),
        ("Agnès", "Agnes"),
        ("Geißler", "Geissler"),
        ("Đurđević", "Djurdjevic"),
        ("Hans-H.", "Hans-H"),
        ("O'Connor", "OConnor"),
        ("Van der Berg", "VanderBerg"),
        ("Łukasz", "Lukasz"),
    ],
)
def test_names_are_spelled_in_ascii(name: str, spelled: str) -> None:
    assert _address_part(name) == spelled


def test_an_address_keeps_its_shape_when_a_name_has_no_letters_left() -> None:
    rng = random.Random(3)
    addresses = {_email(rng, "…", "Ωμέγα", "example.org", 4) for _ in range(50)}
    assert {a.lower() for a in addresses} == {"person4@example.org"}
