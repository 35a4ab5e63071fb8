"""Uploaded import files kept between the review and the import, and export downloads; shared
by the pages and the REST API."""

from __future__ import annotations

import re
import secrets
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from fastapi import UploadFile
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.exceptions import HTTPException

from peoplesync.errors import NotFoundError, ValidationError
from peoplesync.people.person_export import csv_chunks, xlsx_chunks
from peoplesync.people.person_filter import Condition
from peoplesync.people.person_import import FileKind, file_kind
from peoplesync.people.store import PeopleStore
from peoplesync.web.people_filters import resolve

MAX_UPLOAD = 512 * 1024 * 1024
KEEP_UPLOADS = 24 * 3600
_TOKEN = re.compile(r"[0-9a-f]{32}")
MEDIA_TYPES = {
    FileKind.CSV: "text/csv; charset=utf-8",
    FileKind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def upload_folder() -> Path:
    """Where uploads wait for the import (private to this user account)."""
    folder = Path(tempfile.gettempdir()) / "peoplesync-imports"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _forget_old(folder: Path) -> None:
    cutoff = time.time() - KEEP_UPLOADS
    for path in folder.iterdir():
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


async def receive_upload(upload: UploadFile | None, owner: str) -> tuple[str, FileKind, Path]:
    """Save an uploaded file; returns its token, format and path. 413 when it is too big."""
    if upload is None or not upload.filename:
        raise ValidationError("choose a file to upload", record="upload", field="file")
    kind = file_kind(upload.filename)
    folder = upload_folder()
    _forget_old(folder)
    token = secrets.token_hex(16)
    path = folder / f"{token}.{kind.value}"
    size = 0
    with path.open("wb") as handle:
        while piece := await upload.read(1024 * 1024):
            size += len(piece)
            if size > MAX_UPLOAD:
                handle.close()
                path.unlink(missing_ok=True)
                raise HTTPException(413, f"the file is larger than {MAX_UPLOAD // 2**20} MB")
            handle.write(piece)
    (folder / f"{token}.owner").write_text(owner)
    return token, kind, path


def stored_upload(token: str, owner: str) -> tuple[FileKind, Path]:
    """A file uploaded earlier by the same user; NotFoundError otherwise."""
    folder = upload_folder()
    owner_file = folder / f"{token}.owner"
    if not _TOKEN.fullmatch(token) or not owner_file.exists() or owner_file.read_text() != owner:
        raise NotFoundError(
            "the uploaded file is gone (imported already, or older than a day)",
            record="upload",
            field="file",
            hint="upload the file again",
        )
    for kind in FileKind:
        path = folder / f"{token}.{kind.value}"
        if path.exists():
            return kind, path
    raise NotFoundError("the uploaded file is gone", record="upload", field="file")


def forget_upload(token: str) -> None:
    """Delete an uploaded file once imported."""
    folder = upload_folder()
    for path in folder.glob(f"{token}.*"):
        path.unlink(missing_ok=True)


def export_kind(text: str) -> FileKind:
    """The requested export format; ValidationError names ``format``."""
    try:
        return FileKind(text.strip().lower())
    except ValueError:
        raise ValidationError(
            f"{text!r} is not a format", record="export", field="format", hint="csv or xlsx"
        ) from None


async def export_response(
    store: PeopleStore,
    engine: AsyncEngine,
    *,
    kind: FileKind,
    query: str,
    conditions: Sequence[Condition],
    segment_id: str | None,
) -> StreamingResponse:
    """The download, checked before the first byte is sent (errors are still 4xx)."""
    definitions = await store.attributes()
    segment, checked = await resolve(store, engine, conditions, segment_id, definitions)
    query = query or (segment.query if segment else "")
    chunks: AsyncIterator[bytes] = (
        csv_chunks(store, engine, query=query, conditions=checked)
        if kind is FileKind.CSV
        else xlsx_chunks(store, engine, query=query, conditions=checked)
    )
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", segment.name).strip("-") if segment else "people"
    return StreamingResponse(
        chunks,
        media_type=MEDIA_TYPES[kind],
        headers={"Content-Disposition": f'attachment; filename="{stem or "segment"}.{kind.value}"'},
    )


__all__ = [
    "MAX_UPLOAD",
    "export_kind",
    "export_response",
    "forget_upload",
    "receive_upload",
    "stored_upload",
]
