"""People segments as outbound filters: a step that names a segment pushes only the persons in
it. The membership check is pure (the segment's rule on a person, as the People list reads
it); the rules are loaded once per pass, so a segment edited in People applies on the next."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping

from peoplesync.errors import ConfigurationError
from peoplesync.people.model import Person
from peoplesync.people.person_filter import SegmentRule
from peoplesync.people.store import PeopleStore

SegmentLoader = Callable[[list[str]], Awaitable[Mapping[str, SegmentRule]]]
"""Loads the membership rules of the named segments (ConfigurationError for a missing one)."""


def in_segment(segment: str | None, rules: Mapping[str, SegmentRule], person: Person) -> bool:
    """Whether a step limited to ``segment`` (None: no limit) may push the person."""
    if segment is None:
        return True
    rule = rules.get(segment)
    if rule is None:  # load_segment_rules refuses to run without it; never push by default
        return False
    return rule.admits(person)


def store_segments(store: PeopleStore) -> SegmentLoader:
    """The loader reading the segments saved in the People store."""

    async def load(names: list[str]) -> Mapping[str, SegmentRule]:
        return await store.segment_rules(names)

    return load


async def load_segment_rules(
    segments: Iterable[str | None], loader: SegmentLoader | None
) -> Mapping[str, SegmentRule]:
    """The rules of the segments the steps name ({} when none does)."""
    names = sorted({name for name in segments if name})
    if not names:
        return {}
    if loader is None:
        raise ConfigurationError(
            f"a step pushes only segment {names[0]!r}, but no segment store was given",
            hint="run the push through peoplesync push run",
        )
    return await loader(names)


__all__ = ["SegmentLoader", "in_segment", "load_segment_rules", "store_segments"]
