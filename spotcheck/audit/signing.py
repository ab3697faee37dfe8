"""Signed manifests: the bureau's Ed25519 key pair, manifest.sig, and its check.

`manifest.sig` holds the base64 of the 64-byte Ed25519 signature over the exact bytes of
manifest.json, and a line end. The manifest names the signing key by its fingerprint:
sha256 of the 32 raw public-key bytes, as hex. The private key (PKCS#8 PEM, file mode 0600)
never enters a bundle; the public key (SubjectPublicKeyInfo PEM) is published.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from spotcheck.errors import InvalidInputError
from spotcheck.limits import KEY_BYTES, read_bounded

SIGNATURE_FILE = "manifest.sig"
KEY_ENV = "SPOTCHECK_KEY"


def key_fingerprint(public_key: Ed25519PublicKey) -> str:
    """Return sha256 of the raw 32-byte public key, as hex."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def generate_keys(directory: str | Path, name: str = "bureau") -> tuple[Path, Path]:
    """Write a new key pair as DIR/NAME.key (private, mode 0600) and DIR/NAME.pub; return
    their paths. Existing files are never overwritten."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    private_path, public_path = folder / f"{name}.key", folder / f"{name}.pub"
    for path in (private_path, public_path):
        if path.exists():
            raise InvalidInputError(f"{path} already exists; a key is never overwritten")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        if hasattr(os, "fchmod"):
            os.fchmod(handle.fileno(), 0o600)  # whatever the umask
        handle.write(private_pem)
    public_path.write_bytes(public_pem)
    return private_path, public_path


@dataclass(frozen=True)
class Signer:
    """The bureau's private key, loaded to sign manifests."""

    key: Ed25519PrivateKey
    fingerprint: str

    def sign(self, data: bytes) -> bytes:
        """Return the manifest.sig file for these manifest bytes."""
        return base64.b64encode(self.key.sign(data)) + b"\n"


def load_signer(path: str | Path) -> Signer:
    """Return the signer of an Ed25519 private key file, refusing one others may read."""
    source = Path(path)
    data = read_bounded(source, KEY_BYTES, "private key", InvalidInputError)
    mode = source.stat().st_mode
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InvalidInputError(f"{source}: the private key is readable by others; "
                                f"run `chmod 600 {source}`")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(f"{source}: not an unencrypted PEM private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInputError(f"{source}: not an Ed25519 private key")
    return Signer(key, key_fingerprint(key.public_key()))


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """Return the Ed25519 public key of a PEM file."""
    source = Path(path)
    data = read_bounded(source, KEY_BYTES, "public key", InvalidInputError)
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise InvalidInputError(f"{source}: not a PEM public key ({exc})") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInputError(f"{source}: not an Ed25519 public key")
    return key


def check_signature(manifest: bytes, signature_file: bytes | None,
                    public_key: Ed25519PublicKey, signer: object, key_name: str) -> str | None:
    """Return why manifest.sig does not prove the key `key_name` signed the manifest, or None.

    `signer` is the fingerprint the manifest names (None if it names none).
    """
    expected = key_fingerprint(public_key)
    if signature_file is None:
        return f"{SIGNATURE_FILE} is missing: the bundle is not signed"
    if signer is not None and signer != expected:
        return (f"{SIGNATURE_FILE} is from another key: manifest.json names signer "
                f"{str(signer)[:16]}…, but {key_name} is {expected[:16]}…")
    try:
        signature = base64.b64decode(signature_file.strip(), validate=True)
        public_key.verify(signature, manifest)
    except (binascii.Error, ValueError) as exc:
        return f"{SIGNATURE_FILE} is not base64 of a signature ({exc})"
    except InvalidSignature:
        return (f"{SIGNATURE_FILE} does not verify with {key_name} ({expected[:16]}…): "
                "manifest.json was changed after signing, or another key signed it")
    return None
