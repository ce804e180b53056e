"""``citycommons log``: verify a copy of the transparency log, sign a tree head now, export the log, audit it.

``verify`` needs no database: it reads a running portal (``http(s)://...``), an export directory, or the archive the
portal's ``/api/v1/log/export.tar.gz`` (or ``.zip``) gives, and exits 1 on any mismatch, naming what differs.
"""

from __future__ import annotations

import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Annotated

import httpx
import typer
from rich.markup import escape

from citycommons.cli.context import err, fail, out, state
from citycommons.ledger import service
from citycommons.ledger.jobs import signer_for
from citycommons.ledger.service import PUBLIC_KEY_FILE
from citycommons.ledger.verify import VerifyResult, verify_directory, verify_url

app = typer.Typer(help="The transparency log: verify, sign tree heads, export, audit.", no_args_is_help=True)
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".zip")


def _safe_member(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and "\\" not in name


def unpack(archive: Path, into: Path) -> Path:
    """Extracts an export archive (regular files only, no absolute or ``..`` paths) and returns the directory that
    holds ``public-key.json``."""
    name = archive.name.lower()
    if name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if not _safe_member(info.filename):
                    raise ValueError(f"{archive.name}: unsafe path {info.filename!r} in the archive")
            zf.extractall(into)  # noqa: S202 - every member name was checked above
    else:
        with tarfile.open(archive, "r:*") as tf:
            for member in tf.getmembers():
                if not _safe_member(member.name) or not (member.isfile() or member.isdir()):
                    raise ValueError(f"{archive.name}: unsafe entry {member.name!r} in the archive")
            tf.extractall(into, filter="data")
    found = sorted(p.parent for p in into.rglob(PUBLIC_KEY_FILE))
    if not found:
        raise ValueError(f"{archive.name} holds no {PUBLIC_KEY_FILE}: not a log export")
    return found[0]


def _pinned(key: str | None) -> str | None:
    """``--key`` is a file (PEM or base64) or the base64 key itself."""
    if key is None:
        return None
    path = Path(key)
    return path.read_text(encoding="ascii").strip() if path.is_file() else key.strip()


def _run_verify(location: str, pinned: str | None) -> VerifyResult:
    if location.startswith(("http://", "https://")):
        return verify_url(location, pinned_key=pinned)
    path = Path(location)
    if path.is_dir():
        return verify_directory(path, pinned_key=pinned)
    if path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES):
        with tempfile.TemporaryDirectory(prefix="citycommons-verify-") as tmp:
            return verify_directory(unpack(path, Path(tmp)), pinned_key=pinned)
    if not path.exists():
        raise ValueError(f"{location}: no such directory or file (give an http(s) URL, a directory or an archive)")
    raise ValueError(f"{location}: not an export directory or a .tar.gz/.tgz/.zip archive")


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def report(result: VerifyResult, location: str) -> None:
    """Prints the outcome; exits 1 when anything differs."""
    if result.ok:
        out.print(
            f"[bold green]Verified[/] {escape(location)}: {_count(result.entries, 'entry', 'entries')}, "
            f"{_count(result.tree_heads, 'signed tree head', 'signed tree heads')}, key {result.key_id[:16]}…",
            soft_wrap=True,
        )
        out.print(f"Verified tree size: [bold]{result.tree_size}[/]")
        return
    more = " (and more)" if result.truncated else ""
    err.print(f"[bold red]FAILED[/] {escape(location)}: {len(result.mismatches)} mismatch(es){more}")
    for mismatch in result.mismatches:
        err.print(f"  - {escape(mismatch.message)}", soft_wrap=True)
    err.print(f"Verified tree size: [bold]{result.tree_size}[/] (up to the first mismatch)")
    raise typer.Exit(1)


@app.command("verify")
def verify(
    location: Annotated[str, typer.Argument(help="Portal URL (http://host:port), export directory, or archive.")],
    key: Annotated[
        str | None,
        typer.Option(
            "--key", help="Pin the log's public key (PEM file, or base64 of the raw key): fail if it differs."
        ),
    ] = None,
) -> None:
    """Download (or read) the log and its signed tree heads; check every entry's leaf hash, every signature,
    the roots, the consistency between heads and (from a URL) the proofs the portal serves."""
    try:
        result = _run_verify(location, _pinned(key))
    except httpx.HTTPStatusError as exc:
        fail(f"{exc.request.url} answered {exc.response.status_code}: is this a citycommons portal with a signed log?")
    except httpx.HTTPError as exc:
        fail(f"Could not read {location}: {exc}")
    except (OSError, ValueError, tarfile.TarError, zipfile.BadZipFile) as exc:
        fail(f"Could not verify {location}: {exc}")
    report(result, location)


@app.command("sign")
def sign(ctx: typer.Context) -> None:
    """Sign a tree head for the log as it is now (the server also does so at intervals)."""
    cli = state(ctx)
    signer = signer_for(cli.settings)
    with cli.unit() as session:
        head = service.sign_tree_head(session=session, signer=signer)
    out.print(
        f"Signed tree head: size [bold]{head.tree_size}[/], root {head.root_hash}, key {head.key_id[:16]}…",
        soft_wrap=True,
    )


@app.command("export")
def export(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Directory to write (created; must be empty).")],
) -> None:
    """Write the log (entries.ndjson, sths.json, public-key.json) for `citycommons log verify DIR`."""
    cli = state(ctx)
    signer = signer_for(cli.settings)
    with cli.unit() as session:
        result = service.export(session=session, directory=directory, public_key=signer.public_key)
    out.print(
        f"Exported {result.entries} entries and {result.tree_heads} signed tree heads to {escape(str(directory))}"
    )


@app.command("audit")
def audit(ctx: typer.Context) -> None:
    """Check the stored log end to end, including every stored subtree node (run on the server)."""
    cli = state(ctx)
    signer = signer_for(cli.settings)
    with cli.unit() as session:
        result = service.audit(session=session, public_key=signer.public_key)
    report(result, cli.database_label)
