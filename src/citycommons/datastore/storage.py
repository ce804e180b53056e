"""Where published versions live: local disk, or S3-compatible object storage behind a local read-through cache.

``Storage`` is the port ``versions`` goes through; ``DatastoreConfig.storage`` names the implementation
(``config.from_settings`` builds it from ``datastore_storage``). Both keep the same promises:

- a version is immutable and appears whole or not at all, numbered ``1, 2, 3...`` per table; two publishers of the
  same table never get the same number;
- ``version_file`` returns a *local* path, so DuckDB (``facade``) only ever reads local files under ``root``;
- a storage outage surfaces as ``Unavailable`` (HTTP 503), never as a stack trace.

Ingest always builds a version in a local staging directory under ``root``; only ``publish`` differs.

Object layout (``S3Storage``), for a table ``t`` under the key prefix ``p``::

    p/t/v3.lock            claim of number 3 (conditional create: If-None-Match: *); kept forever
    p/t/v3/data.parquet    the version's files, uploaded after the claim
    p/t/v3/schema.json
    p/t/v3/report.json
    p/t/v3.json            the commit manifest (sizes and SHA-256 of the files), written last
    p/t/override.json      the editors' schema override

A version exists when its manifest does; an upload that failed or was killed leaves no manifest, so readers never
see it (a failed upload removes its objects and its claim; ``remove_stale`` sweeps what a killed process left).
The local cache mirrors the local layout (``root/t/v3/data.parquet``): each file is downloaded once to a temporary
name, checked against the manifest (size and SHA-256) and renamed into place, its digest recorded beside it
(``.data.parquet.sha256``) so that a cache left by another bucket is never trusted; least recently used Parquet
files are evicted above ``cache_max_bytes``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import socket
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from citycommons.errors import Conflict, NotFound, Unavailable

log = logging.getLogger(__name__)

VERSION_DIR = re.compile(r"v([1-9][0-9]*)")
DATA_FILE = "data.parquet"
SCHEMA_FILE = "schema.json"
REPORT_FILE = "report.json"
OVERRIDE_FILE = "override.json"
VERSION_FILES = (DATA_FILE, SCHEMA_FILE, REPORT_FILE)
MANIFEST_FORMAT = "citycommons-datastore-version/1"
GIB = 1024**3
CHUNK = 8 * 1024 * 1024

Before = Callable[[int], None]


@runtime_checkable
class Storage(Protocol):
    """Where the published versions of every table live (table ids are checked by the caller)."""

    @property
    def root(self) -> Path:
        """Local directory: the versions themselves (local disk) or staging and the read-through cache (s3)."""
        ...

    def describe(self) -> str:
        """Where the versions are, for logs and the CLI (no secrets)."""
        ...

    def list_versions(self, table_id: str) -> list[int]:
        """Published version numbers of ``table_id``, ascending (empty for an unknown table)."""
        ...

    def version_file(self, table_id: str, version: int, name: str) -> Path:
        """A local path of file ``name`` of a published version (downloaded first if need be); ``NotFound``
        when the version does not exist."""
        ...

    def publish(self, table_id: str, staging: Path, before: Before | None = None) -> int:
        """Publish the files of ``staging`` as the next version and return its number; ``before(N)`` writes the
        files that mention the number (again, if another publisher took N first). On success ``staging`` is gone."""
        ...

    def read_override(self, table_id: str) -> bytes | None:
        """The stored ``override.json`` of ``table_id``, if any."""
        ...

    def write_override(self, table_id: str, data: bytes) -> None:
        """Replace ``override.json`` of ``table_id`` atomically."""
        ...

    def remove_stale(self, table_id: str, older_than_seconds: float) -> int:
        """Remove what a killed publisher left behind (never a published version); returns how many objects."""
        ...

    def list_tables(self) -> list[str]:
        """Ids of the tables with anything stored (versions or an override), sorted."""
        ...

    def remove_table(self, table_id: str) -> int:
        """Remove every published version and the override of ``table_id`` (readers see no version from the first
        step on); returns how many versions there were. Idempotent."""
        ...

    def import_version(self, table_id: str, version: int, source: Path) -> bool:
        """Store the files of directory ``source`` as version ``version`` exactly (moving a datastore between
        backends keeps its numbers). ``False`` when that version already holds the same files; ``Conflict`` when
        it holds other ones."""
        ...


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` through a temporary file in the same directory and an atomic replace."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@dataclass(frozen=True)
class LocalStorage:
    """Versions on local disk: ``root/<table_id>/v<N>/``, published with one ``rename`` of the staging directory."""

    root: Path

    def describe(self) -> str:
        return f"local disk {self.root}"

    def list_versions(self, table_id: str) -> list[int]:
        tdir = self.root / table_id
        if not tdir.is_dir():
            return []
        found = (VERSION_DIR.fullmatch(p.name) for p in tdir.iterdir() if p.is_dir())
        return sorted(int(m.group(1)) for m in found if m)

    def version_file(self, table_id: str, version: int, name: str) -> Path:
        vdir = self.root / table_id / f"v{version}"
        if not vdir.is_dir():
            raise NotFound(f"table {table_id} has no version {version}")
        return vdir / name

    def publish(self, table_id: str, staging: Path, before: Before | None = None) -> int:
        for _ in range(100):
            versions = self.list_versions(table_id)
            number = (versions[-1] if versions else 0) + 1
            if before is not None:
                before(number)
            target = self.root / table_id / f"v{number}"
            try:
                os.rename(staging, target)  # fails if target exists and is not empty: versions never are
            except OSError:
                if target.exists():
                    continue
                raise
            return number
        raise RuntimeError(f"could not publish a version of {table_id}")

    def read_override(self, table_id: str) -> bytes | None:
        path = self.root / table_id / OVERRIDE_FILE
        return path.read_bytes() if path.is_file() else None

    def write_override(self, table_id: str, data: bytes) -> None:
        atomic_write(self.root / table_id / OVERRIDE_FILE, data)

    def remove_stale(self, table_id: str, older_than_seconds: float) -> int:
        return 0  # a local publish is one rename: staging directories are swept by versions.remove_stale_staging

    def remove_table(self, table_id: str) -> int:
        tdir = self.root / table_id
        if not tdir.is_dir():
            return 0
        count = len(self.list_versions(table_id))
        gone = self.root / f".dropped-{table_id}-{uuid.uuid4().hex}"
        os.rename(tdir, gone)  # one step: readers see the whole table or nothing
        shutil.rmtree(gone, ignore_errors=True)
        return count

    def list_tables(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))

    def import_version(self, table_id: str, version: int, source: Path) -> bool:
        target = self.root / table_id / f"v{version}"
        if target.is_dir():
            if all(_same_file(target / n, source / n) for n in VERSION_FILES):
                return False
            raise Conflict(f"version {version} of {table_id} already exists with other files")
        staging = self.root / table_id / f".staging-{uuid.uuid4().hex}"
        staging.mkdir(parents=True)
        try:
            for name in VERSION_FILES:
                shutil.copyfile(source / name, staging / name)
            os.rename(staging, target)
        except OSError as exc:
            if target.is_dir():
                raise Conflict(f"version {version} of {table_id} was created meanwhile") from exc
            raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return True


@dataclass(frozen=True)
class S3Storage:
    """Versions in an S3-compatible bucket (through s3fs), read through a local cache under ``root``.

    Instances compare by value (settings build a new one per request): the connection, the manifests and the
    listing cache are shared by equal instances of one process.
    """

    root: Path
    bucket: str
    prefix: str = "datastore"
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    cache_max_bytes: int = 10 * GIB
    """Bound of the Parquet files kept in the local cache (least recently used evicted first; 0: no bound)."""
    listing_ttl_seconds: float = 2.0
    """How long a table's version list is reused before the bucket is asked again (another worker's new version
    shows up within this delay; this process's own publishes show at once)."""
    stale_listing_seconds: float = 300.0
    """When the bucket cannot be listed, a version list younger than this is served instead of an error."""
    evict_grace_seconds: float = 120.0
    """A cached file used this recently is never evicted (a query may be about to open it)."""
    retries: int = 3
    connect_timeout_seconds: float = 5.0
    read_timeout_seconds: float = 60.0

    # -- the port ---------------------------------------------------------------------------------------------------

    def describe(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"s3://{self.bucket}/{self._prefix()}{where} (cache {self.root})"

    def list_versions(self, table_id: str) -> list[int]:
        return self._listing(table_id).committed

    def version_file(self, table_id: str, version: int, name: str) -> Path:
        manifest = self._manifest(table_id, version)
        local = self.root / table_id / f"v{version}" / name
        self._ensure_cached(table_id, version, name, manifest, local)
        if name == DATA_FILE:  # SQL results look for the schema next to the data (geometry columns)
            self._ensure_cached(table_id, version, SCHEMA_FILE, manifest, local.with_name(SCHEMA_FILE))
        return local

    def publish(self, table_id: str, staging: Path, before: Before | None = None) -> int:
        upload = uuid.uuid4().hex
        for _ in range(100):
            number = self._claim(table_id, upload)
            if number is None:
                continue
            try:
                if before is not None:
                    before(number)
                manifest = self._upload(table_id, number, staging, upload)
            except BaseException:  # storage failures are already ``Unavailable``
                self._abandon(table_id, number)
                raise
            state = self._state()
            with state.lock:
                state.manifests[(table_id, number)] = manifest
                state.listings.pop(table_id, None)
            self._adopt(table_id, number, staging, manifest)
            return number
        raise Unavailable(f"could not publish a version of {table_id}: too many concurrent publishers")

    def read_override(self, table_id: str) -> bytes | None:
        try:
            return bytes(
                self._call("read the schema override", self._fs().cat_file, self._key(table_id, OVERRIDE_FILE))
            )
        except FileNotFoundError as exc:
            self._raise_if_no_bucket(exc)
            return None

    def write_override(self, table_id: str, data: bytes) -> None:
        self._call("store the schema override", self._fs().pipe_file, self._key(table_id, OVERRIDE_FILE), data)

    def remove_stale(self, table_id: str, older_than_seconds: float) -> int:
        """Delete uncommitted claims and their objects older than ``older_than_seconds``."""
        listing = self._listing(table_id, fresh=True)
        fs, removed = self._fs(), 0
        cutoff = time.time() - older_than_seconds
        for number, modified in listing.claims.items():
            if number in listing.committed or modified > cutoff:
                continue
            keys = list(self._call("list a version", fs.find, self._key(table_id, f"v{number}")))
            keys.append(self._key(table_id, f"v{number}.lock"))
            for key in keys:
                with contextlib.suppress(FileNotFoundError):
                    self._call("remove an abandoned upload", fs.rm_file, key)
                    removed += 1
        self._forget_listing(table_id)
        return removed

    def remove_table(self, table_id: str) -> int:
        """Manifests first (the versions disappear for every reader at once), then the files, claims, override."""
        fs = self._fs()
        fs.invalidate_cache(self._key(table_id))
        try:
            found = list(self._call("list a table", fs.find, self._key(table_id)))
        except FileNotFoundError as exc:
            self._raise_if_no_bucket(exc)
            found = []
        prefix = self._key(table_id) + "/"
        first = [k for k in found if re.fullmatch(r"v[1-9][0-9]*\.json", k.removeprefix(prefix))]
        for key in [*first, *(k for k in found if k not in first)]:
            with contextlib.suppress(FileNotFoundError):
                self._call("remove a table", fs.rm_file, key)
        state = self._state()
        with state.lock:
            state.listings.pop(table_id, None)
            for cached in [k for k in state.manifests if k[0] == table_id]:
                del state.manifests[cached]
        shutil.rmtree(self.root / table_id, ignore_errors=True)
        return len(first)

    def list_tables(self) -> list[str]:
        root = "/".join(p for p in (self.bucket, self._prefix()) if p)
        try:
            entries = self._call("list the tables", self._fs().ls, root, detail=True, refresh=True)
        except FileNotFoundError as exc:
            self._raise_if_no_bucket(exc)
            return []
        return sorted(str(e["name"]).rstrip("/").rsplit("/", 1)[-1] for e in entries if e.get("type") == "directory")

    def import_version(self, table_id: str, version: int, source: Path) -> bool:
        upload = uuid.uuid4().hex
        claim = json.dumps({"upload": upload, "import": True, "at": datetime.now(UTC).isoformat()}).encode()
        try:
            self._call("claim a version number", self._fs().pipe_file, self._key(table_id, f"v{version}.lock"), claim,
                       mode="create")  # fmt: skip
        except FileExistsError:
            try:
                manifest = self._manifest(table_id, version)
            except NotFound:
                raise Conflict(f"version {version} of {table_id} is being published by someone else") from None
            if all(manifest["files"].get(n, {}).get("sha256") == _sha256(source / n) for n in VERSION_FILES):
                return False
            raise Conflict(f"version {version} of {table_id} already exists with other files") from None
        try:
            manifest = self._upload(table_id, version, source, upload)
        except BaseException:
            self._abandon(table_id, version)
            raise
        state = self._state()
        with state.lock:
            state.manifests[(table_id, version)] = manifest
            state.listings.pop(table_id, None)
        return True

    # -- object keys and the connection -----------------------------------------------------------------------------

    def _prefix(self) -> str:
        return self.prefix.strip("/")

    def _key(self, table_id: str, *parts: str) -> str:
        return "/".join(p for p in (self.bucket, self._prefix(), table_id, *parts) if p)

    def _state(self) -> _S3State:
        with _STATES_LOCK:
            state = _STATES.get(self)
            if state is None or state.pid != os.getpid():  # s3fs clients are not fork-safe: a child makes its own
                state = _STATES[self] = _S3State()
            return state

    def _fs(self) -> Any:
        state = self._state()
        with state.lock:
            if state.fs is None:
                import s3fs  # imported on first use: a local deployment never loads boto

                options: dict[str, Any] = {
                    "endpoint_url": self.endpoint_url,
                    "use_listings_cache": False,
                    "skip_instance_cache": True,
                    "client_kwargs": {"region_name": self.region} if self.region else {},
                    "config_kwargs": {
                        "connect_timeout": self.connect_timeout_seconds,
                        "read_timeout": self.read_timeout_seconds,
                        "retries": {"max_attempts": self.retries, "mode": "standard"},
                    },
                }
                if self.access_key_id or self.secret_access_key:
                    options.update(key=self.access_key_id, secret=self.secret_access_key)
                fs = s3fs.S3FileSystem(**options)
                fs.retries = self.retries
                state.fs = fs
            return state.fs

    def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one storage operation; ``FileNotFoundError``/``FileExistsError`` pass, any other failure is
        ``Unavailable`` naming what could not be done."""
        try:
            return fn(*args, **kwargs)
        except (FileNotFoundError, FileExistsError):
            raise
        except Exception as exc:
            if isinstance(exc, _storage_errors()) or type(exc).__module__.startswith(("aiohttp", "s3fs")):
                raise self._unavailable(what, exc) from exc
            raise

    def _unavailable(self, message: str, exc: BaseException) -> Unavailable:
        """The error users see names what failed, not the endpoint or the keys; the log has the details."""
        detail = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
        log.warning("datastore storage %s: could not %s: %s", self.describe(), message, detail)
        return Unavailable(f"the datastore's storage is unavailable (could not {message}); try again later")

    def _raise_if_no_bucket(self, exc: FileNotFoundError) -> None:
        cause = exc.__cause__
        code = getattr(cause, "response", {}).get("Error", {}).get("Code") if cause is not None else None
        if code == "NoSuchBucket" or "bucket does not exist" in str(exc).lower():
            raise self._unavailable(f"find its bucket {self.bucket!r}", exc) from exc

    # -- reads ------------------------------------------------------------------------------------------------------

    def _listing(self, table_id: str, *, fresh: bool = False) -> _Listing:
        state = self._state()
        now = time.monotonic()
        with state.lock:
            cached = state.listings.get(table_id)
        if cached is not None and not fresh and now - cached.at < self.listing_ttl_seconds:
            return cached
        try:
            entries = self._call("list the versions", self._fs().ls, self._key(table_id), detail=True, refresh=True)
        except FileNotFoundError as exc:
            self._raise_if_no_bucket(exc)
            entries = []
        except Unavailable:
            if cached is not None and not fresh and now - cached.at < self.stale_listing_seconds:
                return cached  # a short outage: keep serving the versions we know (publishing still fails)
            raise
        committed: set[int] = set()
        claims: dict[int, float] = {}
        for entry in entries:
            name = str(entry["name"]).rstrip("/").rsplit("/", 1)[-1]
            stem, _, ext = name.partition(".")
            match = VERSION_DIR.fullmatch(stem)
            if match is None:
                continue
            number = int(match.group(1))
            if ext == "json":
                committed.add(number)
            modified = entry.get("LastModified")
            stamp = modified.timestamp() if isinstance(modified, datetime) else 0.0
            claims[number] = max(claims.get(number, 0.0), stamp)
        listing = _Listing(at=now, committed=sorted(committed), claims=claims)
        with state.lock:
            state.listings[table_id] = listing
        return listing

    def _forget_listing(self, table_id: str) -> None:
        state = self._state()
        with state.lock:
            state.listings.pop(table_id, None)

    def _manifest(self, table_id: str, version: int) -> dict[str, Any]:
        state = self._state()
        with state.lock:
            manifest = state.manifests.get((table_id, version))
        if manifest is not None:
            return manifest
        try:
            raw = self._call("read a version manifest", self._fs().cat_file, self._key(table_id, f"v{version}.json"))
        except FileNotFoundError as exc:
            self._raise_if_no_bucket(exc)
            raise NotFound(f"table {table_id} has no version {version}") from exc
        try:
            manifest = json.loads(raw)
        except ValueError:
            manifest = None
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
            log.error("datastore storage %s: the manifest of v%d of %s is damaged", self.describe(), version, table_id)
            raise Unavailable(f"the datastore's storage is damaged: the manifest of version {version} of {table_id}")
        with state.lock:
            state.manifests[(table_id, version)] = manifest
            while len(state.manifests) > 4096:
                state.manifests.popitem(last=False)
        return manifest

    def _ensure_cached(self, table_id: str, version: int, name: str, manifest: dict[str, Any], local: Path) -> None:
        expected = manifest["files"].get(name)
        if expected is None:
            raise NotFound(f"version {version} of table {table_id} has no {name}")
        if _cached(local, expected):
            return
        with self._state().file_lock(str(local)):
            if _cached(local, expected):
                return
            local.parent.mkdir(parents=True, exist_ok=True)
            self._download(self._key(table_id, f"v{version}", name), local, expected)
        if name == DATA_FILE:
            self._evict()

    def _download(self, key: str, local: Path, expected: dict[str, Any]) -> None:
        tmp = local.with_name(f".{local.name}.{uuid.uuid4().hex}.part")
        digest = hashlib.sha256()
        try:
            try:
                src = self._call("open a version file", self._fs().open, key, "rb", block_size=CHUNK)
                with src, tmp.open("wb") as out:
                    for chunk in iter(lambda: src.read(CHUNK), b""):
                        digest.update(chunk)
                        out.write(chunk)
            except FileNotFoundError as exc:
                raise self._unavailable(f"read {local.name}, listed in its version manifest", exc) from exc
            except _storage_errors() as exc:
                raise self._unavailable("download a version file", exc) from exc
            if tmp.stat().st_size != expected["size"] or digest.hexdigest() != expected["sha256"]:
                log.error("datastore storage %s: %s does not match its manifest", self.describe(), key)
                raise Unavailable(f"the datastore's storage is damaged: {local.name} does not match its manifest")
            os.replace(tmp, local)
            _mark_verified(local, expected)
        finally:
            tmp.unlink(missing_ok=True)

    def _evict(self) -> None:
        """Delete least recently used cached Parquet files until the cache fits ``cache_max_bytes``."""
        if self.cache_max_bytes <= 0:
            return
        files: list[tuple[float, int, Path]] = []
        for path in self.root.glob("*/v*/" + DATA_FILE):
            with contextlib.suppress(FileNotFoundError):
                st = path.stat()
                files.append((st.st_mtime, st.st_size, path))
        total = sum(size for _, size, _ in files)
        recent = time.time() - self.evict_grace_seconds
        for mtime, size, path in sorted(files):
            if total <= self.cache_max_bytes:
                break
            if mtime > recent:
                log.warning("datastore cache %s over %d bytes: every file is in use", self.root, self.cache_max_bytes)
                break
            path.unlink(missing_ok=True)
            total -= size

    # -- publishing -------------------------------------------------------------------------------------------------

    def _claim(self, table_id: str, upload: str) -> int | None:
        """Claim the next free number with a conditional create; ``None`` when another publisher got it first."""
        listing = self._listing(table_id, fresh=True)
        number = max([0, *listing.committed, *listing.claims]) + 1
        body = json.dumps(
            {"upload": upload, "host": socket.gethostname(), "pid": os.getpid(), "at": datetime.now(UTC).isoformat()}
        ).encode()
        key = self._key(table_id, f"v{number}.lock")
        try:
            self._call("claim a version number", self._fs().pipe_file, key, body, mode="create")
        except FileExistsError:
            return None
        except FileNotFoundError as exc:
            self._raise_if_no_bucket(exc)
            raise self._unavailable("claim a version number", exc) from exc
        # Servers that ignore If-None-Match: the last writer's claim is the one read back (see docs/scaling.md).
        stored = json.loads(self._call("read a claim back", self._fs().cat_file, key))
        return number if stored.get("upload") == upload else None

    def _upload(self, table_id: str, number: int, staging: Path, upload: str) -> dict[str, Any]:
        fs = self._fs()
        files: dict[str, dict[str, Any]] = {}
        for name in VERSION_FILES:
            path = staging / name
            files[name] = {"size": path.stat().st_size, "sha256": _sha256(path)}
            self._call(f"upload {name}", fs.put_file, str(path), self._key(table_id, f"v{number}", name))
        manifest = {
            "format": MANIFEST_FORMAT,
            "table_id": table_id,
            "version": number,
            "upload": upload,
            "created_at": datetime.now(UTC).isoformat(),
            "files": files,
        }
        body = json.dumps(manifest, indent=2).encode()
        try:
            self._call("commit the version", fs.pipe_file, self._key(table_id, f"v{number}.json"), body, mode="create")
        except FileExistsError as exc:  # only if a claim was ignored by the server: never overwrite a version
            raise Unavailable(
                f"the datastore's storage refused version {number} of {table_id}: committed twice"
            ) from exc
        return manifest

    def _abandon(self, table_id: str, number: int) -> None:
        """Best effort: remove the objects of a failed upload and its claim (``remove_stale`` finishes the job)."""
        fs = self._fs()
        keys = [self._key(table_id, f"v{number}", name) for name in VERSION_FILES]
        keys.append(self._key(table_id, f"v{number}.lock"))
        for key in keys:
            with contextlib.suppress(Exception):
                fs.rm_file(key)
        self._forget_listing(table_id)

    def _adopt(self, table_id: str, number: int, staging: Path, manifest: dict[str, Any]) -> None:
        """Make the published staging directory the cached copy of the version (no download for this worker)."""
        target = self.root / table_id / f"v{number}"
        if target.exists():  # left by a cache that served another bucket (or a wiped one): never trust it
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.rename(staging, target)
        except OSError:  # someone is re-creating it right now: the bucket's copy will be downloaded when needed
            shutil.rmtree(staging, ignore_errors=True)
            return
        for name, expected in manifest["files"].items():
            _mark_verified(target / name, expected)
        self._evict()


@dataclass
class _Listing:
    at: float
    committed: list[int]
    claims: dict[int, float]
    """Every number seen (claims, uploads and commits) with its latest modification time."""


@dataclass
class _S3State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    pid: int = field(default_factory=os.getpid)
    fs: Any = None
    listings: dict[str, _Listing] = field(default_factory=dict)
    manifests: OrderedDict[tuple[str, int], dict[str, Any]] = field(default_factory=OrderedDict)
    _file_locks: dict[str, threading.Lock] = field(default_factory=dict)

    @contextlib.contextmanager
    def file_lock(self, name: str) -> Iterator[None]:
        """One download of a file at a time in this process (others wait and find it cached)."""
        with self.lock:
            lock = self._file_locks.setdefault(name, threading.Lock())
        with lock:
            yield
        with self.lock:
            if not lock.locked():
                self._file_locks.pop(name, None)


_STATES: dict[S3Storage, _S3State] = {}
_STATES_LOCK = threading.Lock()


def _after_fork_in_child() -> None:
    """Job workers fork per job (rq): the child must not reuse the parent's connections or a lock held at fork."""
    global _STATES_LOCK
    _STATES_LOCK = threading.Lock()
    _STATES.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _cached(path: Path, expected: dict[str, Any]) -> bool:
    """A complete copy verified against this manifest entry (files are renamed into place whole, and their
    SHA-256 recorded beside them once checked); marks it recently used."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return False
    if st.st_size != expected["size"] or _verified(path) != expected["sha256"]:
        return False
    if time.time() - st.st_mtime > 60:
        with contextlib.suppress(OSError):
            os.utime(path)
    return True


def _digest_file(path: Path) -> Path:
    return path.with_name(f".{path.name}.sha256")


_VERIFIED: dict[tuple[str, int, int], str] = {}
"""(path, inode, size) -> SHA-256 read from its sidecar file, so a hot query does not reread it."""


def _verified(path: Path) -> str | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    key = (str(path), st.st_ino, st.st_size)
    digest = _VERIFIED.get(key)
    if digest is None:
        try:
            digest = _digest_file(path).read_text(encoding="ascii").strip()
        except (FileNotFoundError, UnicodeDecodeError):
            return None
        if len(_VERIFIED) > 65536:
            _VERIFIED.clear()
        _VERIFIED[key] = digest
    return digest


def _mark_verified(path: Path, expected: dict[str, Any]) -> None:
    """Record that ``path`` holds the bytes of a manifest entry (checked on download, or our own upload)."""
    atomic_write(_digest_file(path), str(expected["sha256"]).encode("ascii"))


def _same_file(a: Path, b: Path) -> bool:
    return a.is_file() and b.is_file() and a.stat().st_size == b.stat().st_size and _sha256(a) == _sha256(b)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _storage_errors() -> tuple[type[Exception], ...]:
    """What a storage call raises when the service fails (botocore is imported lazily, with s3fs)."""
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # pragma: no cover - s3fs depends on botocore
        return (OSError,)
    return (OSError, BotoCoreError, ClientError)
