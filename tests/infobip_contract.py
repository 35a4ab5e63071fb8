"""Infobip's published OpenAPI documents (shared/reference/infobip-openapi) as test oracles.

Request bodies, responses and webhook payloads are checked with JSON Schema 2020-12 (the
dialect of OpenAPI 3.1) against the schema the document declares for them.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

OPENAPI_DIR = Path(__file__).resolve().parents[2] / "shared" / "reference" / "infobip-openapi"
# Documents the reference folder lacks, trimmed to the paths we use (tests/data/README.md).
LOCAL_DIR = Path(__file__).resolve().parent / "data"

_DOCUMENT_BY_PREFIX = {
    "/sms/": "infobip-sms-openapi.json",
    "/mms/": "infobip-mms-openapi.json",
    "/rcs/": "infobip-rcs-openapi.json",
    "/viber/": "infobip-viber-openapi.json",
    "/whatsapp/": "infobip-whatsapp-openapi.json",
    "/kakao-": "infobip-kakao-openapi.json",
    "/zalo/": "infobip-zalo-openapi.json",
    "/resource-management/": "infobip-resources-inbound-openapi.json",
}


@functools.cache
def document(name: str) -> dict[str, Any]:
    path = OPENAPI_DIR / name
    if not path.exists() and (LOCAL_DIR / name).exists():
        path = LOCAL_DIR / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the tests need shared/ beside the checkout")
    loaded: dict[str, Any] = json.loads(path.read_text())
    _dispatch_discriminators(loaded["components"]["schemas"])
    return loaded


def _dispatch_discriminators(schemas: dict[str, Any]) -> None:
    """Make ``discriminator`` mappings count: JSON Schema itself ignores the keyword.

    A schema with a mapping gets one ``if``/``then`` per value (``type: TEXT`` -> the text
    content schema). The mapped schemas refer back to their base through ``allOf``; those
    references go to a copy of the base without the mapping, so validation does not loop.
    """
    prefix = "#/components/schemas/"
    for name in list(schemas):
        schema = schemas[name]
        discriminator = schema.get("discriminator") if isinstance(schema, dict) else None
        if not discriminator or not discriminator.get("mapping"):
            continue
        plain_name = f"{name}__plain"
        plain = copy.deepcopy(schema)
        plain.pop("discriminator")
        schemas[plain_name] = plain
        prop = discriminator["propertyName"]
        branches = []
        for value, target_ref in discriminator["mapping"].items():
            target = schemas[target_ref.removeprefix(prefix)]
            for part in target.get("allOf", []):
                if part.get("$ref") == prefix + name:
                    part["$ref"] = prefix + plain_name
            branches.append(
                {
                    "if": {"properties": {prop: {"const": value}}, "required": [prop]},
                    "then": {"$ref": target_ref},
                }
            )
        schema.setdefault("allOf", []).extend(branches)


def document_for(path: str) -> str:
    for prefix, name in _DOCUMENT_BY_PREFIX.items():
        if path.startswith(prefix):
            return name
    raise KeyError(path)


def _validator(name: str, schema: dict[str, Any]) -> Draft202012Validator:
    root = dict(document(name))
    root.pop("$schema", None)
    wrapped = {**{k: v for k, v in root.items() if k == "components"}, **schema}
    return Draft202012Validator(wrapped)


# Rules the documents state but their own examples break (a generator's reading of a
# Java ``Map<String, Object>``); tests/unit/messaging/test_infobip_contract.py shows each.
KNOWN_DEFECTS: dict[str, tuple[str, ...]] = {
    "/zalo/2/messages": ("is not of type 'object'",),
}


def request_errors(
    path: str, body: Any, method: str = "post", *, strict: bool = False
) -> list[str]:
    """Violations of the request schema of an operation; empty when the body conforms."""
    name = document_for(path)
    operation = document(name)["paths"][path][method]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    errors = _errors(name, schema, body)
    if strict:
        return errors
    defects = KNOWN_DEFECTS.get(path, ())
    return [error for error in errors if not any(defect in error for defect in defects)]


def request_examples(path: str, method: str = "post") -> dict[str, Any]:
    name = document_for(path)
    content = document(name)["paths"][path][method]["requestBody"]["content"]
    return {key: value["value"] for key, value in content["application/json"]["examples"].items()}


def response_errors(path: str, status: int, body: Any, method: str = "post") -> list[str]:
    """Violations of the response schema an operation declares for a status code."""
    name = document_for(path)
    operation = document(name)["paths"][path][method]
    response = operation["responses"][str(status)]
    if "$ref" in response:
        response = document(name)["components"]["responses"][response["$ref"].split("/")[-1]]
    schema = response["content"]["application/json"]["schema"]
    return _errors(name, schema, body)


def webhook_errors(name: str, webhook: str, body: Any) -> list[str]:
    """Violations of a webhook's payload schema (the document's ``webhooks`` section)."""
    operation = document(name)["webhooks"][webhook]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    return _errors(name, schema, body)


def schema_errors(name: str, schema_suffix: str, body: Any) -> list[str]:
    """Violations of a named component schema (e.g. a webhook payload), by its short name."""
    schemas = document(name)["components"]["schemas"]
    matches = [key for key in schemas if key.split(".")[-1] == schema_suffix]
    if len(matches) != 1:
        raise KeyError(f"{schema_suffix}: {matches}")
    return _errors(name, {"$ref": f"#/components/schemas/{matches[0]}"}, body)


def _errors(name: str, schema: dict[str, Any], body: Any) -> list[str]:
    validator = _validator(name, schema)
    return [
        f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in validator.iter_errors(body)
    ]
