"""Encryption at rest: AES-256-GCM envelopes for the content of cases of the classifications policy
``security.encrypted_classifications`` names (version documents, stored renderings, case titles, outbox
payloads that quote them).

Keys come from ``CASEBOOK_DATA_KEY`` (comma-separated base64 keys, the first one encrypts) or, without it, the
key file ``CASEBOOK_HOME/data.keys`` (made with mode 0600 on first use, e.g. ``casebook init``). Every ciphertext
carries the id of its key (a digest of the key, so ids never collide), which is how ``casebook keys rotate``
finds what to re-encrypt and how a reader finds the key: a process knows every key it has loaded.

A writer marks a value to seal with ``seal_for`` (``SealedStr`` / ``SealedDict``: a str / dict that also carries
its keyring); the column types ``SealedJSON`` and ``SealedText`` encrypt marked values on the way in and decrypt
envelopes on the way out, so readers see plain values and need no change. Unmarked values are stored as before.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import JSON, Text, TypeDecorator
from sqlalchemy.engine import Connection, Engine

from casebook.core.errors import CasebookError
from casebook.core.settings import Settings

#: JSON envelope: {"cbenc": 1, "kid": …, "ct": base64(nonce + ciphertext + tag)}; text envelope: "cbenc1:kid:…".
MARK = "cbenc"
TEXT_PREFIX = "cbenc1:"
KEY_FILE = "data.keys"
_AAD = {"json": b"casebook/sealed-json/1", "text": b"casebook/sealed-text/1"}
#: Every key this process has loaded, by id: a reader finds the key of any envelope whatever context wrote it.
_KNOWN: dict[str, bytes] = {}
#: The keyring each loaded key belongs to: a value read under a key is written back sealed under its keyring.
_RINGS: dict[str, "Keyring"] = {}


class KeyMissing(CasebookError):
    """An envelope whose key is not configured: the content cannot be read until the key is restored."""

    exit_code = 7
    http_status = 500


class KeyConfigError(CasebookError):
    """The data key setting or key file cannot be used (named, with the rule it breaks)."""

    exit_code = 2
    http_status = 500


def key_id(key: bytes) -> str:
    """A key's id: a digest of the key (never the key; two keys never share an id)."""
    return "k" + hashlib.blake2b(key, digest_size=6, person=b"casebook-kid").hexdigest()


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


@dataclass
class Keyring:
    """The keys one store uses: ``current`` encrypts, every key decrypts; ``sealed``: the classifications whose
    content is encrypted; ``retiring``: ids a rotation in progress is moving away from (kept until it finishes)."""

    keys: dict[str, bytes]
    current: str
    sealed: frozenset[str] = frozenset()
    path: Path | None = None          # the key file, or None when the keys come from CASEBOOK_DATA_KEY
    retiring: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        _KNOWN.update(self.keys)
        for kid in self.keys:
            _RINGS[kid] = self

    def seals(self, classification: str | None) -> bool:
        return bool(classification) and classification in self.sealed

    def encrypt(self, plain: bytes, purpose: str) -> tuple[str, str]:
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self.keys[self.current]).encrypt(nonce, plain, _AAD[purpose])
        return self.current, base64.b64encode(nonce + sealed).decode("ascii")


def _decrypt(kid: str, blob: str, purpose: str) -> bytes:
    key = _KNOWN.get(kid)
    if key is None:
        raise KeyMissing(f"encrypted content needs data key '{kid}', which is not configured "
                         f"(CASEBOOK_DATA_KEY or CASEBOOK_HOME/{KEY_FILE}): restore it from the key backup")
    raw = base64.b64decode(blob)
    return AESGCM(key).decrypt(raw[:12], raw[12:], _AAD[purpose])


# ----- loading and saving keys -----
def _parse_env(value: str) -> list[bytes]:
    keys = []
    for i, part in enumerate(p.strip() for p in value.split(",") if p.strip()):
        try:
            key = base64.b64decode(part, validate=True)
        except ValueError:
            key = b""
        if len(key) != 32:
            raise KeyConfigError(f"CASEBOOK_DATA_KEY: key {i + 1} must be 32 bytes in base64 "
                                 "(make one with: casebook keys new)")
        keys.append(key)
    if not keys:
        raise KeyConfigError("CASEBOOK_DATA_KEY: is set but holds no key")
    return keys


def key_file(settings: Settings) -> Path:
    return Path(settings.home) / KEY_FILE


def _write_private(path: Path, keys: dict[str, bytes], current: str, retiring: list[str]) -> Path:
    """The key file's content in a new file of its own beside ``path`` (mode 0600, on disk), not yet in place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps({"current": current, "retiring": retiring,
                       "keys": {kid: base64.b64encode(k).decode() for kid, k in keys.items()}}, indent=2)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(body + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return tmp


def save_key_file(path: Path, keys: dict[str, bytes], current: str, retiring: list[str]) -> None:
    """Replace the key file atomically (a complete new file renamed over it): no reader sees half a file."""
    os.replace(_write_private(path, keys, current, retiring), path)


def _create_key_file(path: Path) -> None:
    """A first key file, unless another process or thread made one meanwhile (theirs wins, so every writer of
    this store uses one key): linked into place, which fails when the name exists."""
    key = new_key()
    tmp = _write_private(path, {key_id(key): key}, key_id(key), [])
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def load_keyring(settings: Settings, sealed: frozenset[str] | set[str] = frozenset(), *,
                 create: bool = True) -> Keyring:
    """The store's keyring: from ``CASEBOOK_DATA_KEY``, else the key file (made on first use when ``create``)."""
    env = getattr(settings, "data_key", None)
    if env:
        keys = _parse_env(env)
        return Keyring({key_id(k): k for k in keys}, key_id(keys[0]), frozenset(sealed))
    path = key_file(settings)
    if not path.exists():
        if not create:
            raise KeyConfigError(f"no data key: set CASEBOOK_DATA_KEY or run 'casebook init' ({path} is missing)")
        _create_key_file(path)
    try:
        data = json.loads(path.read_text())
        keys = {kid: base64.b64decode(k) for kid, k in data["keys"].items()}
        current = data["current"]
        if current not in keys or any(len(k) != 32 for k in keys.values()):
            raise ValueError("current key missing or a key not 32 bytes")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KeyConfigError(f"{path}: not a usable data key file ({exc})") from None
    return Keyring(keys, current, frozenset(sealed), path, list(data.get("retiring") or []))


def install(engine: Engine, keyring: Keyring) -> None:
    """Give an engine its keyring (``keyring_of`` finds it from any connection of the engine)."""
    engine.casebook_keyring = keyring  # type: ignore[attr-defined]


def keyring_of(bind: Connection | Engine) -> Keyring | None:
    engine = bind.engine if isinstance(bind, Connection) else bind
    return getattr(engine, "casebook_keyring", None)


# ----- marking values to seal -----
class SealedStr(str):
    """A str to be stored encrypted (its keyring travels with it)."""

    keyring: Keyring


class SealedDict(dict):  # type: ignore[type-arg]
    """A JSON object to be stored encrypted (its keyring travels with it)."""

    keyring: Keyring


def seal(keyring: Keyring, value: Any) -> Any:
    """``value`` marked for encryption under ``keyring`` (str and dict; None and others unchanged)."""
    if isinstance(value, str):
        out: Any = SealedStr(value)
    elif isinstance(value, dict):
        out = SealedDict(value)
    else:
        return value
    out.keyring = keyring
    return out


def seal_for(bind: Connection | Engine, classification: str | None, value: Any) -> Any:
    """``value`` marked for encryption when the engine has a keyring that seals this classification."""
    keyring = keyring_of(bind)
    return seal(keyring, value) if keyring is not None and keyring.seals(classification) else value


def is_envelope(value: Any) -> bool:
    return (isinstance(value, dict) and value.get(MARK) == 1 and "kid" in value) or \
        (isinstance(value, str) and value.startswith(TEXT_PREFIX))


def envelope_kid(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("kid") if is_envelope(value) else None
    if isinstance(value, str) and value.startswith(TEXT_PREFIX):
        return value[len(TEXT_PREFIX):].split(":", 1)[0]
    return None


def encrypt_json(keyring: Keyring, value: dict[str, Any]) -> dict[str, Any]:
    kid, blob = keyring.encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(), "json")
    return {MARK: 1, "kid": kid, "ct": blob}


def decrypt_json(envelope: dict[str, Any]) -> dict[str, Any]:
    return json.loads(_decrypt(envelope["kid"], envelope["ct"], "json"))


def encrypt_text(keyring: Keyring, value: str) -> str:
    kid, blob = keyring.encrypt(value.encode(), "text")
    return f"{TEXT_PREFIX}{kid}:{blob}"


def decrypt_text(envelope: str) -> str:
    kid, blob = envelope[len(TEXT_PREFIX):].split(":", 1)
    return _decrypt(kid, blob, "text").decode()


def reseal(keyring: Keyring, envelope: Any) -> Any:
    """An envelope re-encrypted under the keyring's current key (unchanged when it already is)."""
    if envelope_kid(envelope) == keyring.current:
        return envelope
    if isinstance(envelope, dict):
        return encrypt_json(keyring, decrypt_json(envelope))
    return encrypt_text(keyring, decrypt_text(envelope))


def _owner(kid: str | None) -> Keyring | None:
    """A keyring that can re-encrypt a value read under ``kid`` (for values read, changed and written back)."""
    return _RINGS.get(kid) if kid else None


def _marked(value: Any) -> Keyring | None:
    """The keyring of a marked value, or of a marked str one level down in a dict (an outbox payload's case)."""
    if isinstance(value, (SealedDict, SealedStr)):
        return value.keyring
    if isinstance(value, dict):
        for inner in value.values():
            if isinstance(inner, (SealedStr, SealedDict)):
                return inner.keyring
            if isinstance(inner, dict):
                for deeper in inner.values():
                    if isinstance(deeper, (SealedStr, SealedDict)):
                        return deeper.keyring
    return None


class SealedJSON(TypeDecorator[Any]):
    """A JSON column whose marked values are stored as AES-GCM envelopes and read back decrypted."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None or is_envelope(value):
            return value
        keyring = _marked(value)
        return encrypt_json(keyring, dict(value)) if keyring is not None else value

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if isinstance(value, dict) and is_envelope(value):
            kid = value["kid"]
            plain = decrypt_json(value)
            ring = _owner(kid)
            return seal(ring, plain) if ring is not None else plain
        return value


class SealedText(TypeDecorator[str]):
    """A text column whose marked values are stored as AES-GCM envelopes and read back decrypted."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if isinstance(value, SealedStr) and not value.startswith(TEXT_PREFIX):
            return encrypt_text(value.keyring, str(value))
        return value

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if isinstance(value, str) and value.startswith(TEXT_PREFIX):
            ring = _owner(envelope_kid(value))
            plain = decrypt_text(value)
            return seal(ring, plain) if ring is not None else plain
        return value
