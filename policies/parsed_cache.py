"""The policy file's parsed YAML and its validated document, kept under the store's home so a command need not
parse it again (parsing the default policy takes a tenth of a second, more than the rest of loading it) nor build
the schema's validators to check it again (another 0.05 s; the schema's models build them on first use).

``ParsedPolicyCache`` keeps what the YAML parser returned; an entry answers only for the exact text it was parsed
from (its SHA-256), by the same installed PyYAML, in this cache format: a changed file, or parser, misses and is
parsed anew. It is read back with a pickle loader that builds nothing but plain data (and dates).

``ValidatedPolicyCache`` keeps the document the schema validated from that text; an entry answers only for the
exact text and the exact schema (the source of every module of the ``policies`` package and of
``casebook.core.locales``, and the installed pydantic), so a changed file or a changed rule misses and the file
is validated anew: a policy an entry answers with is one the current schema accepted. It is read back with a
pickle loader that builds the schema's models, dates and plain data only.

A cache that cannot be read or written is simply not used.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import pickle
from pathlib import Path
from typing import Any

#: Bump when what an entry holds changes.
FORMAT = "casebook-policy-yaml-1"
VALIDATED_FORMAT = "casebook-policy-validated-1"

#: The only classes an entry may name: what ``yaml.safe_load`` returns besides built-in containers and scalars.
_DATA_CLASSES = {("datetime", "date"), ("datetime", "datetime"), ("datetime", "time"), ("datetime", "timedelta"),
                 ("datetime", "timezone")}


class _DataOnly(pickle.Unpickler):
    """Unpickles plain data only: naming any class but a date or time is refused (Python's "restricting
    globals" recipe), so a planted entry cannot run code."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _DATA_CLASSES:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not plain data")


def _parser_identity() -> str:
    """The installed PyYAML (its file and modification time), found without importing it."""
    spec = importlib.util.find_spec("yaml")
    origin = spec.origin if spec is not None and spec.origin else "?"
    try:
        return f"{origin}:{os.stat(origin).st_mtime_ns}"
    except OSError:
        return origin


class _SchemaModels(_DataOnly):
    """Unpickles the policy schema's models besides plain data: any other class is refused."""

    def find_class(self, module: str, name: str) -> Any:
        if module in _SCHEMA_MODULES:
            from pydantic import BaseModel

            found = super(_DataOnly, self).find_class(module, name)
            if isinstance(found, type) and issubclass(found, BaseModel):
                return found
        return super().find_class(module, name)


#: The modules whose models a validated entry holds, and (with ``casebook.core.locales``) whose code decides
#: whether a policy is valid.
_SCHEMA_MODULES = ("policies.schema", "policies.learning")


def _schema_identity() -> str:
    """The schema's code as it is now: the source of the ``policies`` package's modules and of the locales it
    checks labels against, and the installed pydantic (read without importing the schema)."""
    import pydantic
    import pydantic_core

    package = Path(__file__).parent
    sources = [*sorted(package.glob("*.py")), package.parent / "casebook" / "core" / "locales.py"]
    digest = hashlib.sha256(f"{pydantic.VERSION}:{pydantic_core.__version__}".encode())
    for source in sources:
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


class ParsedPolicyCache:
    """One entry per policy file (by its path) in ``directory``: the key it was made for and the parsed data."""

    prefix = "policy"
    loader: type[pickle.Unpickler] = _DataOnly

    def __init__(self, directory: Path, policy_path: Path) -> None:
        name = hashlib.sha256(str(Path(policy_path).resolve()).encode()).hexdigest()[:16]
        self.file = Path(directory) / f"{self.prefix}-{name}.pickle"

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256("\0".join((FORMAT, _parser_identity(), text)).encode()).hexdigest()

    def get(self, text: str) -> tuple[bool, Any]:
        """(True, data) when the entry was made from exactly ``text``; (False, None) otherwise."""
        try:
            blob = self.file.read_bytes()
            key, data = self.loader(io.BytesIO(blob)).load()
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
                ImportError):
            return False, None
        return (True, data) if key == self.key(text) else (False, None)

    def put(self, text: str, data: Any) -> None:
        """Keep ``data`` as parsed from ``text``; written whole or not at all (a reader never sees half)."""
        import tempfile   # here: only a miss writes

        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.file.parent, prefix=f".{self.prefix}-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    pickle.dump((self.key(text), data), fh, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, self.file)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except (OSError, pickle.PicklingError, RecursionError):
            pass  # a read-only home: every load parses, as without a cache


class ValidatedPolicyCache(ParsedPolicyCache):
    """One entry per policy file: the key it was made for and the ``PolicyDocument`` validated from its text."""

    prefix = "policy-validated"
    loader = _SchemaModels

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256("\0".join((VALIDATED_FORMAT, _schema_identity(), text)).encode()).hexdigest()
