"""What a record operation answers: per-record save results, a whole request refused, and
the allOrNone roll-back."""

from __future__ import annotations

from dataclasses import dataclass, field

ROLLED_BACK: dict[str, object] = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was using AllOrNone header",
    "fields": [],
}


class RequestError(Exception):
    """A whole request fails (unknown object, bad external id field...)."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message


@dataclass
class SaveResult:
    """The outcome for one record, in the shape sObject Collections return."""

    id: str | None
    success: bool
    created: bool = False
    errors: list[dict[str, object]] = field(default_factory=list)

    def as_json(self, *, with_created: bool = False) -> dict[str, object]:
        """JSON for collections (``created`` only where Salesforce sends it: upsert)."""
        body: dict[str, object] = {"id": self.id, "success": self.success, "errors": self.errors}
        if with_created:
            body["created"] = self.created
        return body


def rolled_back(results: list[SaveResult], *, keep_ids: bool) -> list[SaveResult] | None:
    """With allOrNone: when any record failed, what every record reports instead (else None)."""
    if all(r.success for r in results):
        return None
    return [
        r if not r.success else SaveResult(r.id if keep_ids else None, False, errors=[ROLLED_BACK])
        for r in results
    ]


__all__ = ["ROLLED_BACK", "RequestError", "SaveResult", "rolled_back"]
