"""The policy file's parsed YAML, kept under the store's home so a command need not parse it again (parsing the
default policy takes a tenth of a second, more than the rest of loading it).

Only what the YAML parser returned is kept, never the validated policy: the policy is validated from it at every
load, so every policy reference is still checked whichever code reads it. An entry answers only for the exact
text it was parsed from (its SHA-256), by the same installed PyYAML, in this cache format: a changed file, or
parser, misses and is parsed anew. An entry is read back with a pickle loader that builds nothing but plain
data (and dates), and a cache that cannot be read or written is simply not used.
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


class ParsedPolicyCache:
    """One entry per policy file (by its path) in ``directory``: the key it was made for and the parsed data."""

    def __init__(self, directory: Path, policy_path: Path) -> None:
        name = hashlib.sha256(str(Path(policy_path).resolve()).encode()).hexdigest()[:16]
        self.file = Path(directory) / f"policy-{name}.pickle"

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256("\0".join((FORMAT, _parser_identity(), text)).encode()).hexdigest()

    def get(self, text: str) -> tuple[bool, Any]:
        """(True, data) when the entry was parsed from exactly ``text``; (False, None) otherwise."""
        try:
            blob = self.file.read_bytes()
            key, data = _DataOnly(io.BytesIO(blob)).load()
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError):
            return False, None
        return (True, data) if key == self.key(text) else (False, None)

    def put(self, text: str, data: Any) -> None:
        """Keep ``data`` as parsed from ``text``; written whole or not at all (a reader never sees half)."""
        import tempfile   # here: only a miss writes

        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.file.parent, prefix=".policy-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    pickle.dump((self.key(text), data), fh, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, self.file)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except (OSError, pickle.PicklingError, RecursionError):
            pass  # a read-only home: every load parses, as without a cache
