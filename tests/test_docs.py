"""The user guides (docs/) are complete and current: every role's guide exists in every interface language and is
linked from the index, and every `casebook` command a guide or note mentions exists with the options it shows,
so a renamed command or option fails here instead of misleading a reader."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from casebook.cli import LAZY_COMMANDS, load_command
from casebook.core.locales import LOCALES

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
ROLES = ("author", "reviewer", "department-head", "committee", "operations", "manager")
PAGES = sorted(DOCS.rglob("*.md"))
# Simplified-Chinese guides are written as mainland companies write: none of these Traditional-only spellings or
# Taiwan/Hong Kong terms (character-converted text would keep them).
NOT_ZH_HANS = ("使用者", "資訊", "预设", "視訊", "软体", "軟體", "档案", "程式", "帐号", "登入", "搜寻", "汇出", "萤幕",
               "伺服器", "网路", "电邮", "资料库", "结束码", "范例")


def mentions(text: str) -> list[str]:
    """Every `casebook …` command in a guide: inline code spans and lines of fenced blocks (continuations joined)."""
    found = [span for span in re.findall(r"`([^`\n]+)`", text) if span.startswith("casebook ")]
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("casebook "):
                found.append(line)
    return found


def _words(command: str) -> list[str]:
    try:
        return shlex.split(command)
    except ValueError:                      # an unbalanced quote in prose: split plainly
        return command.split()


def resolve(words: list[str]) -> tuple[Any, list[str]]:
    """The click command a command line names and the words after its name; AssertionError for an unknown one."""
    assert words and words[0] in LAZY_COMMANDS, f"no command 'casebook {words[0] if words else ''}'"
    command, rest, path = load_command(words[0]), words[1:], [words[0]]
    while hasattr(command, "list_commands") and rest and not rest[0].startswith("-"):
        sub = command.get_command(None, rest[0])
        if sub is None:
            if getattr(command, "invoke_without_command", False) or command.params:
                break                       # a group that takes arguments itself
            raise AssertionError(f"no command 'casebook {' '.join(path + [rest[0]])}'")
        command, path, rest = sub, path + [rest[0]], rest[1:]
    assert not (hasattr(command, "list_commands") and not command.params and not rest), \
        f"'casebook {' '.join(path)}' needs a subcommand"
    return command, rest


def options(command: Any) -> set[str]:
    names = {"--help"}
    for param in command.params:
        names.update(o for o in (*getattr(param, "opts", ()), *getattr(param, "secondary_opts", ())) if o.startswith("--"))
    return names


def test_every_role_has_a_guide_in_every_language_linked_from_the_index() -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    for role in ROLES:
        sizes = {}
        for locale in LOCALES:
            guide = DOCS / locale / f"{role}.md"
            assert guide.exists(), guide
            sizes[locale] = guide.stat().st_size
            assert f"({locale}/{role}.md)" in index, f"docs/README.md does not link {locale}/{role}.md"
            assert re.search(r"[\u4e00-\u9fff]", guide.read_text(encoding="utf-8")) or locale == "en"
        assert min(sizes.values()) > 1500, sizes
    assert {p.parent.name for p in PAGES if p.parent != DOCS} == set(LOCALES)


def test_the_guides_in_each_language_have_the_same_sections_and_commands() -> None:
    """A translation may word things its own way but covers the same ground: as many sections, the same pages
    and the same commands as the English guide."""
    for role in ROLES:
        english = (DOCS / "en" / f"{role}.md").read_text(encoding="utf-8")
        for locale in LOCALES:
            text = (DOCS / locale / f"{role}.md").read_text(encoding="utf-8")
            assert text.count("\n## ") == english.count("\n## "), (locale, role)
            assert _pages(text) == _pages(english), (locale, role)
            commands = r"`casebook ([a-z-]+(?: [a-z-]+)?)"
            assert set(re.findall(commands, text)) == set(re.findall(commands, english)), (locale, role)


def _pages(text: str) -> set[str]:
    """The page paths a guide names, placeholders (KEY, 編號, 编号, N) as ``*``."""
    return {"/".join(part if re.fullmatch(r"[a-z0-9_.{}-]*", part) else "*" for part in path.split("/"))
            for path in re.findall(r"`(/[a-z][\w/{}.-]*)", text)}


def test_zh_hans_guides_use_mainland_wording() -> None:
    for page in sorted((DOCS / "zh-Hans").glob("*.md")):
        text = re.sub(r"`[^`]*`", "", page.read_text(encoding="utf-8"))
        used = [word for word in NOT_ZH_HANS if word in text]
        assert not used, (page.name, used)


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_every_command_a_guide_mentions_exists_with_its_options(page: Path) -> None:
    problems = []
    for line in mentions(page.read_text(encoding="utf-8")):
        words = _words(line)[1:]
        try:
            command, rest = resolve(words)
        except AssertionError as exc:
            problems.append(f"{line}: {exc}")
            continue
        unknown = [w.split("=", 1)[0] for w in rest if w.startswith("--") and w.split("=", 1)[0] not in options(command)]
        if unknown:
            problems.append(f"{line}: unknown option(s) {unknown}")
    assert not problems, "\n".join(problems)


def test_the_checks_catch_a_stale_mention() -> None:
    with pytest.raises(AssertionError):
        resolve(["review", "approve", "3"])
    with pytest.raises(AssertionError):
        resolve(["reviews", "queue"])
    command, rest = resolve(["tasks", "--as", "you"])
    assert "--as" in options(command) and rest == ["--as", "you"]
    command, rest = resolve(["access", "decide", "7", "--deny"])
    assert "--deny" in options(command) and "--approve" in options(command)
    assert mentions("x `casebook case list --as you` y\n```bash\ncasebook review decide N \\\n  --score a=1\n```") == \
        ["casebook case list --as you", "casebook review decide N    --score a=1"]
