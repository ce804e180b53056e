"""Stored distribution files: written atomically under ``data_dir/uploads/<distribution id>/``."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from citycommons.errors import TooLarge, invalid

SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class StoredFile:
    relative_path: str
    filename: str
    byte_size: int
    sha256: str


def safe_filename(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/")).strip()
    cleaned = SAFE_NAME.sub("-", base).strip(".-")[:150]
    return cleaned or "file"


def store_upload(*, uploads_dir: Path, distribution_id: str, source: Path, filename: str, max_bytes: int) -> StoredFile:
    """Copies ``source`` into the store; the previous file of the distribution stays until the new one is whole."""
    size = source.stat().st_size
    if size > max_bytes:
        raise TooLarge(f"File is {size} bytes; the limit is {max_bytes}", fields={"upload": ["File too large"]})
    if size == 0:
        raise invalid("upload", "The file is empty")
    name = safe_filename(filename)
    target_dir = uploads_dir / distribution_id
    target_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=target_dir, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            while chunk := src.read(1024 * 1024):
                digest.update(chunk)
                out.write(chunk)
        final = target_dir / name
        os.replace(tmp_name, final)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    for old in target_dir.iterdir():
        if old.name != name and not old.name.startswith(".upload-"):
            old.unlink(missing_ok=True)
    return StoredFile(
        relative_path=f"{distribution_id}/{name}", filename=name, byte_size=size, sha256=digest.hexdigest()
    )


def stored_path(uploads_dir: Path, relative_path: str) -> Path:
    path = (uploads_dir / relative_path).resolve()
    if not str(path).startswith(str(uploads_dir.resolve()) + os.sep):
        raise invalid("path", "Bad file path")
    return path


def remove_distribution_files(uploads_dir: Path, distribution_id: str) -> None:
    shutil.rmtree(uploads_dir / distribution_id, ignore_errors=True)
