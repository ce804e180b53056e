"""The transparency log's JSON API under ``/api/v1/log`` (public: entries carry pseudonyms and ids only).

The endpoints are the ones ``verify.HttpLog`` reads, so ``citycommons log verify URL`` checks exactly what this
serves: ``entries``, ``entries/{index}``, ``sth``, ``sths``, ``proof/inclusion``, ``proof/consistency`` and
``public-key``. ``export.tar.gz`` and ``export.zip`` hold the directory ``service.export`` writes, for auditors who
verify offline (``citycommons log verify FILE_OR_DIR``).
"""

from __future__ import annotations

import pathlib
import shutil
import tarfile
import tempfile
import zipfile
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from citycommons.errors import NotFound
from citycommons.ledger import service
from citycommons.ledger.jobs import signer_for
from citycommons.ledger.keys import public_key_info
from citycommons.ledger.schemas import (
    ConsistencyProof,
    EntryPage,
    EntryProofRead,
    EventType,
    InclusionProof,
    PublicKeyRead,
    SignedTreeHead,
    TreeHeadList,
)
from citycommons.settings import Settings
from citycommons.web.deps import SessionDep, SettingsDep

PREFIX = "/api/v1/log"
router = APIRouter(prefix=PREFIX, tags=["transparency"])
ERRORS: dict[int | str, dict[str, object]] = {
    404: {"description": "No such entry, or no signed tree head yet"},
    422: {"description": "Invalid parameters; `error.fields` names each one (e.g. `tree_size` beyond the log)"},
}
ARCHIVE_TYPES = {"tar.gz": "application/gzip", "zip": "application/zip"}
MAX_INDEX = 2**53 - 1  # JSON-safe integers, as in the entries
Index = Annotated[int, Query(ge=0, le=MAX_INDEX, description="Entry index, from 0")]
Size = Annotated[int, Query(ge=0, le=MAX_INDEX, description="Tree size: number of entries, from 0")]


@router.get("/entries", response_model=EntryPage, responses=ERRORS)
def list_entries(
    session: SessionDep,
    start: Annotated[int, Query(ge=0, le=MAX_INDEX, description="First index to return")] = 0,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE, description="Entries per page")] = 100,
    type: Annotated[EventType | None, Query(description="Only entries of this event type")] = None,
) -> EntryPage:
    """Entries with index ≥ ``start`` in index order. ``entry`` is the exact canonical JSON whose leaf hash is
    ``SHA-256(0x00 || entry)``; the other fields decode it. Page on with ``start = last index + 1``."""
    return service.list_entries(session=session, start=start, limit=limit, type=type.value if type else None)


@router.get("/entries/{index}", response_model=EntryProofRead, responses=ERRORS)
def get_entry(
    session: SessionDep,
    index: Annotated[int, Path(ge=0, le=MAX_INDEX, description="Entry index, from 0")],
    tree_size: Annotated[int | None, Query(ge=1, le=MAX_INDEX, description="Prove inclusion in this tree")] = None,
) -> EntryProofRead:
    """One entry with its RFC 9162 inclusion proof against the latest signed tree head (``inclusion`` is null
    while no signed head covers the entry yet), or against the tree of ``tree_size`` entries."""
    return service.get_entry(session=session, index=index, tree_size=tree_size)


@router.get("/sth", response_model=SignedTreeHead, responses=ERRORS)
def latest_tree_head(session: SessionDep) -> SignedTreeHead:
    """The latest signed tree head: Ed25519 over RFC 9162 TreeHeadDataV2 (tree size, timestamp, root hash)."""
    head = service.latest_tree_head(session=session)
    if head is None:
        raise NotFound("The log has no signed tree head yet")
    return head


@router.get("/sths", response_model=TreeHeadList, responses=ERRORS)
def tree_heads(session: SessionDep) -> TreeHeadList:
    """Every signed tree head, oldest first."""
    return service.list_tree_heads(session=session)


@router.get("/proof/inclusion", response_model=InclusionProof, responses=ERRORS)
def inclusion_proof(session: SessionDep, index: Index, tree_size: Size) -> InclusionProof:
    """The audit path of entry ``index`` in the tree of ``tree_size`` entries (RFC 9162 §2.1.3)."""
    return service.inclusion_proof(session=session, index=index, tree_size=tree_size)


@router.get("/proof/consistency", response_model=ConsistencyProof, responses=ERRORS)
def consistency_proof(session: SessionDep, first: Size, second: Size) -> ConsistencyProof:
    """The proof that the tree of ``second`` entries extends the tree of ``first`` entries (RFC 9162 §2.1.4)."""
    return service.consistency(session=session, first=first, second=second)


@router.get("/public-key", response_model=PublicKeyRead, responses=ERRORS)
def public_key(settings: SettingsDep) -> PublicKeyRead:
    """The Ed25519 key that signs the tree heads: raw (base64) and SubjectPublicKeyInfo PEM; ``key_id`` is the
    hex SHA-256 of the raw key."""
    return public_key_info(signer_for(settings).public_key)


def write_archive(
    *, session: Session, settings: Settings, kind: Literal["tar.gz", "zip"], workdir: pathlib.Path
) -> pathlib.Path:
    """Exports the log into ``workdir`` and packs it as ``citycommons-log-<size>/`` in a tar.gz or zip file."""
    size = service.current_size(session=session)
    name = f"citycommons-log-{size}"
    directory = workdir / name
    service.export(session=session, directory=directory, public_key=signer_for(settings).public_key)
    archive = workdir / f"{name}.{kind}"
    files = sorted(directory.iterdir())
    if kind == "zip":
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for path in files:
                zf.write(path, f"{name}/{path.name}")
    else:
        with tarfile.open(archive, "w:gz") as tf:
            for path in files:
                tf.add(path, f"{name}/{path.name}", recursive=False)
    return archive


def _archive_response(session: Session, settings: Settings, kind: Literal["tar.gz", "zip"]) -> FileResponse:
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="citycommons-log-export-"))
    try:
        archive = write_archive(session=session, settings=settings, kind=kind, workdir=workdir)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return FileResponse(
        archive,
        media_type=ARCHIVE_TYPES[kind],
        filename=archive.name,
        headers={"Cache-Control": "no-store"},
        background=BackgroundTask(shutil.rmtree, workdir, ignore_errors=True),
    )


@router.get(
    "/export.tar.gz",
    response_class=FileResponse,
    responses={200: {"content": {"application/gzip": {}}, "description": "The log as a gzipped tar archive"}},
)
def export_tar(session: SessionDep, settings: SettingsDep) -> FileResponse:
    """The whole log for offline verification: ``entries.ndjson``, ``sths.json`` and ``public-key.json`` in a
    directory ``citycommons-log-<size>/``. Check it with ``citycommons log verify FILE`` on any machine."""
    return _archive_response(session, settings, "tar.gz")


@router.get(
    "/export.zip",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}, "description": "The log as a zip archive"}},
)
def export_zip(session: SessionDep, settings: SettingsDep) -> FileResponse:
    """The same files as ``export.tar.gz``, as a zip archive."""
    return _archive_response(session, settings, "zip")
