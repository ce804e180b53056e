"""The log's Ed25519 signing key: generate, keep in the data directory (PEM, mode 0600), export the public half.

The key id is the hex SHA-256 of the 32-byte raw public key. Public keys travel as raw bytes in base64 (the
``public_key`` field of ``/api/v1/log/public-key`` and ``public-key.json``) and as SubjectPublicKeyInfo PEM.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from citycommons.ledger.schemas import PublicKeyRead

ALGORITHM = "Ed25519"
KEY_FILE = Path("ledger") / "signing-key.pem"
log = logging.getLogger(__name__)


def public_key_raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_b64(public_key: Ed25519PublicKey) -> str:
    return base64.b64encode(public_key_raw(public_key)).decode("ascii")


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem.decode("ascii")


def key_id(public_key: Ed25519PublicKey) -> str:
    return hashlib.sha256(public_key_raw(public_key)).hexdigest()


def public_key_info(public_key: Ed25519PublicKey) -> PublicKeyRead:
    """What ``/api/v1/log/public-key`` and an export's ``public-key.json`` publish."""
    return PublicKeyRead(
        algorithm=ALGORITHM,
        key_id=key_id(public_key),
        public_key=public_key_b64(public_key),
        pem=public_key_pem(public_key),
    )


def load_public_key(text: str | bytes) -> Ed25519PublicKey:
    """A public key from PEM or from base64 of the 32 raw bytes. Raises ``ValueError`` for anything else."""
    data = text.encode("ascii") if isinstance(text, str) else text
    if data.lstrip().startswith(b"-----BEGIN"):
        key = serialization.load_pem_public_key(data)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key
    raw = base64.b64decode(data, validate=True)
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key has 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def verify_signature(public_key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class LogSigner:
    """Signs tree heads. Holds the private key; pass it explicitly to ``service.sign_tree_head``."""

    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(data)

    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


def generate_signer() -> LogSigner:
    return LogSigner(Ed25519PrivateKey.generate())


def save_signer(signer: LogSigner, path: Path) -> None:
    """Writes the private key as PKCS#8 PEM, readable by the owner only (0600); never overwrites a key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(signer.private_pem())
    os.chmod(path, 0o600)  # in case the umask was stricter than asked, or a filesystem ignored the mode


def load_signer(path: Path) -> LogSigner:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return LogSigner(key)


def load_or_create_signer(data_dir: Path) -> LogSigner:
    """The key at ``<data_dir>/ledger/signing-key.pem``, generated on first use."""
    return signer_at(data_dir / KEY_FILE)


def signer_at(path: Path) -> LogSigner:
    """The key stored at ``path`` (PEM), generated and saved there on first use."""
    if path.exists():
        return load_signer(path)
    signer = generate_signer()
    try:
        save_signer(signer, path)
    except FileExistsError:  # another process created it first: use theirs
        return load_signer(path)
    log.info("created the transparency log's signing key at %s", path)
    return signer
