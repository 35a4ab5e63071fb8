"""One inbound step's settings: which Salesforce object flows into People persons, with
which mapping lines, filter and switches, and where its positions are kept."""

from __future__ import annotations

from dataclasses import dataclass

from peoplesync.sync.conflict import two_way
from peoplesync.sync.mapping import FieldMapping

CONVERSION_FIELDS = ("IsConverted", "ConvertedContactId")
MERGEABLE = frozenset({"Lead", "Contact", "Account"})


@dataclass(frozen=True)
class InboundStep:
    """A Salesforce object flowing into People persons.

    ``create`` / ``update`` switch new persons and changes to linked ones on or off;
    ``delete`` decides what a record deleted in Salesforce does to its person: the person is
    deleted with its last link to the org (on), or only unlinked (off). ``name`` is the
    profile step's name; it keeps the cursors of several steps on one object apart (a step
    named after its object uses the object's keys).
    """

    sobject: str
    lines: tuple[FieldMapping, ...]
    integration: str = "default"
    condition: str | None = None
    create: bool = True
    update: bool = True
    delete: bool = True
    name: str | None = None

    @property
    def system(self) -> str:
        """The link system (and change-log origin) of this integration."""
        return f"salesforce:{self.integration}"

    @property
    def stream_key(self) -> str:
        """Where the step's Change Data Capture replay id is kept."""
        return f"{self.system}:{self.name or self.sobject}:replay"

    @property
    def cursor_key(self) -> str:
        """Where the step's cursor is kept."""
        return f"{self.system}:{self.name or self.sobject}:cursor"

    def fields(self) -> list[str]:
        """Fields to query: mapped ones, plus what matching and conversion need."""
        wanted = [line.salesforce_field for line in self.lines]
        if self.sobject == "Lead":
            wanted += list(CONVERSION_FIELDS)
        if self.sobject == "Contact":
            wanted.append("AccountId")
        wanted.append("IsDeleted")
        if self.sobject in MERGEABLE:
            wanted.append("MasterRecordId")
        if self.two_way:
            wanted.append("LastModifiedDate")  # when Salesforce changed it: most recent wins
        return list(dict.fromkeys(wanted))

    @property
    def two_way(self) -> bool:
        """Whether some line is two-way, so a change may meet one made in People."""
        return any(two_way(line) for line in self.lines)


__all__ = ["CONVERSION_FIELDS", "MERGEABLE", "InboundStep"]
