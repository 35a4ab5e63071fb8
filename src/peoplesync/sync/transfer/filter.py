"""A transfer's SOQL filter checked against each chosen step's object before the job starts.

One filter applies to every step a transfer runs, and the objects differ: a Lead has
``Country``, a Contact ``MailingCountry``, an Account ``BillingCountry``. The fields the
condition compares are looked up in each object's describe first, so a field one object
lacks is refused naming the step, the object and the field, with the steps it fits and the
object's similar fields; then Salesforce runs the condition once per step with ``LIMIT 1``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from peoplesync.errors import ConfigurationError, ValidationError
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.salesforce.soql import condition_fields
from peoplesync.sync.inbound.company import CompanyRunner
from peoplesync.sync.inbound.runner import InboundRunner
from peoplesync.sync.profile.step_filter import validate_filter


@dataclass(frozen=True)
class FilterTarget:
    """An inbound step a transfer may run: its name, object and what it fills in People."""

    step: str
    sobject: str
    target: str  # "Company" or "Person"

    @property
    def label(self) -> str:
        """``Account to Company`` (with the step's name when it is not the object's)."""
        flow = f"{self.sobject} to {self.target}"
        return flow if self.step == self.sobject else f"{self.step}: {flow}"


def filter_targets(runners: Mapping[str, InboundRunner]) -> list[FilterTarget]:
    """The targets of a profile's inbound runners, by step name in run order."""
    return [
        FilterTarget(
            step, runner.step.sobject, "Company" if isinstance(runner, CompanyRunner) else "Person"
        )
        for step, runner in runners.items()
    ]


def unknown_fields(fields: Sequence[str], describe: Mapping[str, Any]) -> list[str]:
    """The ``fields`` the object lacks: a plain name must be a field, a dotted one must start
    with a relationship (what lies beyond it Salesforce checks)."""
    names = {str(f["name"]).lower() for f in describe.get("fields", [])}
    relations = {
        str(f["relationshipName"]).lower()
        for f in describe.get("fields", [])
        if f.get("relationshipName")
    }
    return [
        field
        for field in fields
        if (
            field.split(".")[0].lower() not in relations
            if "." in field
            else field.lower() not in names
        )
    ]


# The prefixes of address components: Account's BillingCountry, Contact's MailingCountry...
_ADDRESS_PREFIXES = frozenset({"billing", "shipping", "mailing", "other", "personmailing"})


def similar_fields(field: str, describe: Mapping[str, Any], limit: int = 3) -> list[str]:
    """The object's address components named like ``field``'s last part (Country ->
    BillingCountry, ShippingCountry). A name that merely ends alike is another field (Lead's
    Status is not Account's CleanStatus), so it is not offered."""
    wanted = field.split(".")[-1].lower()
    if len(wanted) < 3:
        return []
    found = []
    for described in describe.get("fields", []):
        name = str(described["name"])
        prefix = name.lower().removesuffix(wanted)
        if (
            prefix != name.lower()
            and prefix
            and (described.get("compoundFieldName") or prefix in _ADDRESS_PREFIXES)
        ):
            found.append(name)
    return found[:limit]


_NOT_FIELDS = {False: "is not a field", True: "are not fields"}


def _choices(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def misfit_error(
    condition: str,
    chosen: Sequence[FilterTarget],
    every: Sequence[FilterTarget],
    describes: Mapping[str, Mapping[str, Any]],
) -> ValidationError | None:
    """Why ``condition`` does not fit some chosen steps' objects (None when it fits all).

    ``describes`` holds the describe of each object of ``every`` (the enabled steps); the hint
    names the steps the condition fits and similar fields of the objects it does not."""
    fields = condition_fields(condition)
    missing = {t.step: unknown_fields(fields, describes[t.sobject]) for t in every}
    failed = [t for t in chosen if missing[t.step]]
    if not failed:
        return None
    message = "; ".join(
        f"{_choices(missing[t.step])} {_NOT_FIELDS[len(missing[t.step]) > 1]} of {t.sobject}"
        f" (step {t.label})"
        for t in failed
    )
    fits = [t.step for t in every if not missing[t.step]]
    ways: list[str] = []
    if fits:
        ways.append(f"choose only the {_choices(fits)} step{'s' if len(fits) > 1 else ''}")
    for target in failed:
        for field in missing[target.step]:
            similar = similar_fields(field, describes[target.sobject])
            if similar:
                ways.append(f"use {' or '.join(similar)} instead of {field} on {target.sobject}")
    if not ways:
        ways.append("compare only fields every chosen step's object has")
    return ValidationError(message, record="transfer", field="filter", hint="; or ".join(ways))


def lead_status_error(
    lead_statuses: Sequence[str], chosen: Sequence[FilterTarget]
) -> ValidationError | None:
    """Lead Statuses only filter Leads: with no Lead step chosen they would filter nothing."""
    if not lead_statuses or any(t.sobject == "Lead" for t in chosen):
        return None
    return ValidationError(
        f"Lead Status only applies to Leads, and no chosen step reads Leads "
        f"({', '.join(t.step for t in chosen) or 'none chosen'})",
        record="transfer",
        field="lead_status",
        hint="choose a Lead step too, or clear Lead Status",
    )


async def check_transfer_filter(
    client: SalesforceClient,
    condition: str,
    chosen: Sequence[FilterTarget],
    every: Sequence[FilterTarget],
) -> None:
    """Refuse ``condition`` unless it fits every chosen step's object: first by the fields it
    compares (describe), then by Salesforce running it once per step (``LIMIT 1``)."""
    describes = {t.sobject: await client.describe(t.sobject) for t in chosen}
    if misfit_error(condition, chosen, chosen, describes) is not None:
        # Only now are the other steps' objects needed: the hint names the steps that fit.
        describes |= {t.sobject: await client.describe(t.sobject) for t in every}
        error = misfit_error(condition, chosen, every, describes)
        if error is not None:
            raise error
    for target in chosen:
        try:
            await validate_filter(client, target.sobject, condition)
        except ConfigurationError as rejected:
            raise ValidationError(
                f"{rejected.message} (step {target.label})",
                record="transfer",
                field="filter",
                hint=rejected.hint,
            ) from None


__all__ = [
    "FilterTarget",
    "check_transfer_filter",
    "filter_targets",
    "lead_status_error",
    "misfit_error",
    "similar_fields",
    "unknown_fields",
]
