"""The one exception tree of peoplesync, branched by what the caller should do.

- ``RetryableError``: try the same thing again later (5xx, timeouts, lock contention).
- ``StopError``: stop this integration or command until a person acts (revoked auth,
  API limit reached, bad configuration).
- ``RecordError``: skip this record, report it, and carry on with the rest.

Messages never contain secrets: callers pass field names and record keys, not tokens.
"""

from __future__ import annotations

from collections.abc import Sequence


class PeopleSyncError(Exception):
    """Root of every error peoplesync raises on purpose."""

    hint: str = ""
    # The fix as the web app and REST API tell it (a page, an endpoint) when ``hint`` names a
    # command; empty when ``hint`` reads the same everywhere.
    web_hint: str = ""

    def __init__(self, message: str, *, hint: str = "", web_hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        if hint:
            self.hint = hint
        if web_hint:
            self.web_hint = web_hint

    @property
    def hint_on_web(self) -> str:
        """The hint for the web app and the REST API."""
        return self.web_hint or self.hint

    @property
    def text_on_web(self) -> str:
        """``str()`` as the web app and the REST API say it (their hint)."""
        hint = self.hint_on_web
        return f"{self.message} (how to fix: {hint})" if hint else self.message

    def __str__(self) -> str:
        return f"{self.message} (how to fix: {self.hint})" if self.hint else self.message


# --- retry -------------------------------------------------------------------------------


class RetryableError(PeopleSyncError):
    """A transient failure: the same call may succeed later."""


class TransientDatabaseError(RetryableError):
    """The database was briefly unavailable or the transaction lost a race."""


class StalePersonsError(TransientDatabaseError):
    """Persons changed after the values written to them were decided (``PersonInput.version``
    no longer the stored one): nothing of the batch was written; read them and decide again."""

    def __init__(self, person_ids: Sequence[str]) -> None:
        shown = ", ".join(list(person_ids)[:5])
        more = f" and {len(person_ids) - 5} more" if len(person_ids) > 5 else ""
        super().__init__(
            f"person {shown}{more} changed while the batch was decided; nothing was written",
            hint="read the persons again and retry the batch",
        )
        self.person_ids = list(person_ids)


class LeaseLostError(RetryableError):
    """Another process took over work this one held a lease on (it ran past the lease):
    this one stops; the next pass starts from what was committed."""


# --- stop --------------------------------------------------------------------------------


class StopError(PeopleSyncError):
    """Work cannot continue until someone changes configuration or credentials."""


class ConfigurationError(StopError):
    """Settings or integration configuration are invalid."""


class SettingError(ConfigurationError):
    """One setting a person entered is wrong; ``field`` names it (a form shows it there)."""

    def __init__(self, message: str, *, field: str, hint: str = "", web_hint: str = "") -> None:
        super().__init__(message, hint=hint, web_hint=web_hint)
        self.field = field


class SettingTakenError(SettingError):
    """A setting another stored record has already (a name or an id that must be unique)."""


# --- skip this record --------------------------------------------------------------------


class RecordError(PeopleSyncError):
    """One record is wrong; the rest of the batch can proceed."""

    code: str = "INVALID_RECORD"

    def __init__(
        self,
        message: str,
        *,
        record: str | None = None,
        field: str | None = None,
        hint: str = "",
        web_hint: str = "",
    ) -> None:
        prefix = ""
        if record is not None:
            prefix += f"record {record}"
        if field is not None:
            prefix += f"{', ' if prefix else ''}field {field!r}"
        super().__init__(
            f"{prefix}: {message}" if prefix else message, hint=hint, web_hint=web_hint
        )
        self.record = record
        self.field = field
        self.detail = message


class ValidationError(RecordError):
    """A value does not satisfy the rules of its field."""

    code = "INVALID_VALUE"


class InvalidEmailError(ValidationError):
    """An email address is not a valid address."""

    code = "INVALID_EMAIL"
    hint = "give an address like name@example.com"


class InvalidPhoneError(ValidationError):
    """A phone number cannot be parsed into E.164."""

    code = "INVALID_PHONE"
    hint = "give the number in international form, like +14155550123"


class UnknownAttributeError(ValidationError):
    """A value was given for an attribute that is not defined."""

    code = "UNKNOWN_ATTRIBUTE"
    hint = "define the custom attribute first (peoplesync attributes add NAME --type TYPE)"
    web_hint = (
        "define the custom attribute first (People -> Configuration, or POST /api/v1/attributes)"
    )


class AttributeTypeError(ValidationError):
    """A value does not have the type of its attribute."""

    code = "WRONG_TYPE"


class MissingMandatoryAttributeError(ValidationError):
    """A mandatory attribute is missing or empty."""

    code = "MANDATORY_MISSING"
    hint = "give a value for every mandatory attribute"


class DuplicateEmailError(ValidationError):
    """An email address already belongs to another person."""

    code = "DUPLICATE_EMAIL"
    hint = "merge the two persons, or remove the address from one of them"


class AmbiguousMatchError(ValidationError):
    """The record's identifiers point at more than one existing person."""

    code = "AMBIGUOUS_MATCH"
    hint = "merge the matching persons first, or give the person id"


class AttributeExistsError(ValidationError):
    """An attribute was added under a name that is already defined."""

    code = "ATTRIBUTE_EXISTS"


class ConfirmationRequiredError(RecordError):
    """A change has consequences the caller must accept explicitly (then send it again,
    confirmed)."""

    code = "CONFIRMATION_REQUIRED"

    def __init__(
        self,
        message: str,
        *,
        affected: int,
        record: str | None = None,
        field: str | None = None,
        hint: str = "",
        web_hint: str = "",
    ) -> None:
        super().__init__(message, record=record, field=field, hint=hint, web_hint=web_hint)
        self.affected = affected


class JourneyRequestError(RecordError):
    """A Journey Builder call peoplesync cannot read: not JSON, not an object, a field missing."""

    code = "INVALID_JOURNEY_REQUEST"


class BadSignatureError(JourneyRequestError):
    """A JWT body that no signing key of the business unit verifies (answered with 401)."""

    code = "BAD_SIGNATURE"


class NotFoundError(RecordError):
    """The record asked for does not exist."""

    code = "NOT_FOUND"


class BatchValidationError(PeopleSyncError):
    """Several records of a batch were rejected; nothing of the batch was written."""

    def __init__(self, errors: Sequence[RecordError]) -> None:
        self.errors = list(errors)
        shown = "; ".join(str(e) for e in self.errors[:5])
        more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        super().__init__(f"{len(self.errors)} record(s) rejected: {shown}{more}")
