"""What a new person needs so that the connected Salesforce integrations can create a record
from them: the fields Salesforce requires on create and the People attributes mapped to them
by each enabled outbound step that creates (shown on the Add/Edit person form)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.people.store import PeopleStore
from peoplesync.sync.integration import integration_names
from peoplesync.sync.mapping import Direction
from peoplesync.sync.profile.model import Profile, Target
from peoplesync.sync.profile.store import load_profile

# Fields Salesforce refuses to create a record without (standard objects, as shipped).
REQUIRED_TO_CREATE: dict[str, tuple[str, ...]] = {
    "Lead": ("LastName", "Company"),
    "Contact": ("LastName",),
}


@dataclass(frozen=True)
class CreateNeed:
    """One field a step's new record needs, and the People attribute that fills it (None when
    no line of the step maps it: every create then fails)."""

    integration: str
    step: str
    sobject: str
    salesforce_field: str
    attribute: str | None
    segment: str | None

    @property
    def text(self) -> str:
        """The need in words, for the form."""
        who = f"persons of segment {self.segment}" if self.segment else "new persons"
        where = f"Salesforce ({self.integration}) step {self.step!r}"
        if self.attribute is None:
            return (
                f"{where} creates a {self.sobject} for {who}, which requires "
                f"{self.sobject}.{self.salesforce_field}, but no People attribute is mapped "
                "to it: map one on the step, or its creates fail"
            )
        return (
            f"{where} creates a {self.sobject} for {who}: {self.sobject}."
            f"{self.salesforce_field} is required and comes from {self.attribute}"
        )


def profile_needs(profile: Profile, integration: str) -> list[CreateNeed]:
    """The needs of every enabled Person -> object step of ``profile`` that creates records."""
    needs: list[CreateNeed] = []
    for step in profile.steps:
        if not (
            step.enabled
            and step.create
            and step.direction is Direction.OUTBOUND
            and step.target is Target.PERSON
        ):
            continue
        for required in REQUIRED_TO_CREATE.get(step.sobject, ()):
            attribute = next(
                (
                    line.attribute
                    for line in step.lines
                    if line.salesforce_field.lower() == required.lower()
                    and line.applies(inbound=False, creating=True)
                ),
                None,
            )
            needs.append(
                CreateNeed(integration, step.name, step.sobject, required, attribute, step.segment)
            )
    return needs


async def create_needs(store: PeopleStore, engine: AsyncEngine) -> list[CreateNeed]:
    """The needs of every connected integration (none when Salesforce is not connected)."""
    needs: list[CreateNeed] = []
    for name in await integration_names(engine):
        needs += profile_needs(await load_profile(store, name), name)
    return needs


def needs_by_attribute(needs: list[CreateNeed]) -> Mapping[str, list[CreateNeed]]:
    """The needs grouped by the People attribute that fills them (unmapped ones left out)."""
    grouped: dict[str, list[CreateNeed]] = {}
    for need in needs:
        if need.attribute is not None:
            grouped.setdefault(need.attribute, []).append(need)
    return grouped


__all__ = [
    "REQUIRED_TO_CREATE",
    "CreateNeed",
    "create_needs",
    "needs_by_attribute",
    "profile_needs",
]
