"""Load, check and query a policy file; every stored decision records ``Policy.version_tag``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from casebook.core.errors import Coded, InvalidInput, Problem, pydantic_problem
from casebook.core.locales import LOCALES
from policies.parsed_cache import ParsedPolicyCache, ValidatedPolicyCache
from policies.schema import PolicyDocument, ReviewLevel, RolePolicy


def _problems_from_validation(exc: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        if not path and ": " in msg:
            # Cross-reference problems carry their own paths, several to one error.
            for part in msg.split("; "):
                where, _, rule = part.partition(": ")
                problems.append(Problem(where, rule))
        else:
            problems.append(pydantic_problem(path or "(document)", err))
    return problems


def _parsed(text: str, source: str) -> Any:
    """The YAML's data; a parse error is refused naming its line and column."""
    import yaml   # here, not at the top: a load answered by the parsed cache never needs it

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else source
        raise InvalidInput([Problem.of(where, "err_not_yaml", detail=getattr(exc, "problem", exc))], source) from None


def _validated(raw: Any, text: str, source: str) -> "Policy":
    """The policy of parsed ``raw`` (from ``text``); raise ``InvalidInput`` listing every problem with its path."""
    if not isinstance(raw, dict):
        raise InvalidInput([Problem.of("(document)", "err_mapping")], source)
    try:
        doc = PolicyDocument.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput(_problems_from_validation(exc), source) from None
    return Policy(doc=doc, digest=_digest(text))


def _digest(text: str) -> str:
    """The policy text's short content hash (part of ``Policy.version_tag``)."""
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def parse_policy(text: str, source: str = "policy") -> "Policy":
    """Parse policy YAML; raise ``InvalidInput`` listing every problem with its path."""
    return _validated(_parsed(text, source), text, source)


def load_policy(path: Path, cache_dir: Path | None = None) -> "Policy":
    """The policy in the file at ``path``. With ``cache_dir``, the file's parsed YAML and the document the schema
    validated from it are kept there and reused while the file's text and the schema's code are unchanged
    (``policies.parsed_cache``); any change is parsed and validated anew."""
    text = Path(path).read_text(encoding="utf-8")
    if cache_dir is None:
        return parse_policy(text, str(path))
    validated = ValidatedPolicyCache(cache_dir, path)
    hit, doc = validated.get(text)
    if hit and isinstance(doc, PolicyDocument):
        return Policy(doc=doc, digest=_digest(text))
    cache = ParsedPolicyCache(cache_dir, path)
    hit, raw = cache.get(text)
    if not hit:
        raw = _parsed(text, str(path))
    policy = _validated(raw, text, str(path))
    if not hit:
        cache.put(text, raw)
    validated.put(text, policy.doc)
    return policy


def check_policy_file(path: Path) -> list[Problem]:
    """Every problem in a policy file (empty when it is valid)."""
    try:
        load_policy(path)
    except InvalidInput as exc:
        return exc.problems
    except OSError as exc:
        return [Problem.of(str(path), "err_cannot_read", detail=exc.strerror)]
    return []


@dataclass(frozen=True)
class Policy:
    """A validated policy plus the questions the rest of Casebook asks of it."""

    doc: PolicyDocument
    digest: str
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def version_tag(self) -> str:
        """Version plus content hash: recorded with every decision so it can be replayed."""
        return f"{self.doc.version}+{self.digest}"

    def role(self, name: str) -> RolePolicy:
        return self.doc.roles[name]

    def clearance_rank(self, level: str) -> int:
        return self.doc.clearances.index(level)

    def classification_rank(self, level: str) -> int:
        return self.doc.classifications.index(level)

    def may(self, role: str, permission: str, *, own: bool) -> bool:
        """Whether a role holds a permission, either outright or restricted to its own cases."""
        perms = self.doc.roles[role].permissions
        return permission in perms or (own and f"{permission}:own" in perms)

    def event_permission(self, event: str) -> str:
        return self.doc.event_permissions[event]

    def chain_for(self, library: str, micro: bool) -> list[ReviewLevel]:
        name = self.doc.review.micro_chain if micro else self.doc.libraries[library].review_chain
        return self.doc.review.chains[name]

    def label(self, code: str, locale: str) -> str | None:
        """The policy's own label of a code in ``locale``: a library, role, department or review level (labelled
        where it is defined), or a scenario, outcome, classification, clearance, tag facet or tag value (the ``labels``
        table). None when the policy has none."""
        labelled = [self.doc.libraries.get(code), self.doc.roles.get(code), self.doc.departments.get(code),
                    *(level for chain in self.doc.review.chains.values() for level in chain if level.name == code)]
        for item in labelled:
            if item is not None and item.labels:
                return item.labels.get(locale) or next(iter(item.labels.values()))
        texts = self.doc.labels.get(code)
        if texts:
            return texts.get(locale) or next(iter(texts.values()))
        return None

    def coded(self, code: str) -> Coded:
        """``code`` carrying its policy labels, so an error naming it reads in each locale."""
        return Coded(code, {loc: self.label(code, loc) for loc in LOCALES})

    @cached_property
    def max_review_levels(self) -> int:
        return max(len(levels) for levels in self.doc.review.chains.values())
