from pathlib import Path

import pytest

from peoplesync.sandbox.salesforce.config import SandboxConfig
from peoplesync.sandbox.salesforce.ids import IdGenerator, checksum, is_valid_id, to18


@pytest.mark.parametrize(
    ("id15", "id18"),
    [
        ("001D000000IRFma", "001D000000IRFmaIAH"),
        ("00190000001pPvH", "00190000001pPvHAAU"),
        ("0015500001QdQWa", "0015500001QdQWaAAN"),
    ],
)
def test_checksum_matches_real_ids(id15: str, id18: str) -> None:
    assert id15 + checksum(id15) == id18
    assert to18(id15) == id18
    assert to18(id18.lower()[:15].upper()[:0] + id18) == id18
    assert is_valid_id(id18)


def test_bad_checksum_is_invalid() -> None:
    assert not is_valid_id("001D000000IRFmaAAA")
    assert not is_valid_id("short")


def test_generator_issues_unique_valid_ids_with_prefix() -> None:
    gen = IdGenerator()
    ids = [gen.next_id("00Q") for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(i.startswith("00Q") and len(i) == 18 and is_valid_id(i) for i in ids)
    resume = IdGenerator(gen.peek())
    assert resume.next_id("00Q") not in ids


def test_two_orgs_in_two_directories_have_two_organization_ids(tmp_path: Path) -> None:
    first = SandboxConfig(data_dir=tmp_path / "one")
    again = SandboxConfig(data_dir=tmp_path / "one")
    second = SandboxConfig(data_dir=tmp_path / "two")
    assert first.org_id == again.org_id
    assert first.org_id != second.org_id
    assert first.org_id.startswith("00D") and len(first.org_id) == 18
