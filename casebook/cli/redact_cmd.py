"""``casebook redact …``: detection and tiered rendering of free text, single documents or JSON lines."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from casebook.cli.common import JsonOpt, console, guarded, print_json, read_input, say
from casebook.core.errors import InvalidInput, Problem
from casebook.core.settings import get_settings
from policies.loader import Policy, load_policy
from redaction.analyzer import Lang, detect
from redaction.render import render_text
from redaction.tiers import Audience

app = typer.Typer(no_args_is_help=True, help="Find sensitive figures and personal data; render text for a tier.")

LangOpt = Annotated[str, typer.Option("--lang", help="auto (by script), zh or en.")]
JsonlOpt = Annotated[Path | None, typer.Option("--jsonl", help='Input lines {"id": …, "text": …}; output per line.')]


def _policy() -> Policy:
    return load_policy(get_settings().policy_path)


def _lang(value: str) -> Lang:
    if value not in ("auto", "zh", "en"):
        raise InvalidInput([Problem.of("--lang", "err_lang_option", value=value)], "option")
    return value  # type: ignore[return-value]


def _lines(path: Path) -> Iterator[tuple[Any, str]]:
    """Validate every line first, so bad input is refused before any output (and lists every problem)."""
    raw = read_input(str(path), "--jsonl")
    items, problems = [], []
    for n, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem.of(say("out_line", line=n), "err_not_json", detail=exc.msg))
            continue
        if not isinstance(obj, dict) or "id" not in obj or not isinstance(obj.get("text"), str):
            problems.append(Problem.of(say("out_line", line=n), "err_jsonl_item"))
            continue
        items.append((obj["id"], obj["text"]))
    if problems:
        raise InvalidInput(problems, "input")
    return iter(items)


def _audience(policy: Policy, tier: str, classification: str | None, own_department: bool) -> Audience:
    problems = []
    if tier not in policy.doc.clearances:
        problems.append(Problem.of("--tier", "err_one_of_got", allowed=list(policy.doc.clearances), value=tier))
    classification = classification or tier
    if classification not in policy.doc.classifications:
        problems.append(Problem.of("--case-classification", "err_one_of_got", allowed=list(policy.doc.classifications),
                                   value=classification))
    if problems:
        raise InvalidInput(problems, "option")
    return Audience(tier, classification, own_department=own_department)


@app.command("detect")
@guarded
def detect_cmd(file: Annotated[str, typer.Argument(help="A text file, or - for stdin.")] = "-",
               lang: LangOpt = "auto", json_out: JsonOpt = False, jsonl: JsonlOpt = None) -> None:
    """Sensitive spans (offsets are Python string indices into the text as given)."""
    language = _lang(lang)
    threshold = _policy().doc.redaction.threshold
    if jsonl is not None:
        out = sys.stdout
        for ident, text in _lines(jsonl):
            findings = [f.as_json() for f in detect(text, language, threshold=threshold)]
            out.write(json.dumps({"id": ident, "findings": findings}, ensure_ascii=False) + "\n")
        return
    text = read_input(file, "FILE", max_bytes=_policy().doc.limits.case_file_max_bytes)
    findings = detect(text, language, threshold=threshold)
    if json_out:
        print_json([f.as_json() for f in findings])
        return
    for f in findings:
        console.print(f"{f.start:>6}-{f.end:<6} {f.entity_type:<14} {f.score:.2f}  {f.text}", highlight=False)
    console.print(f"[dim]{say('out_findings', count=len(findings))}[/]", markup=True)


@app.command("render")
@guarded
def render_cmd(file: Annotated[str, typer.Argument(help="A text file, or - for stdin.")] = "-",
               tier: Annotated[str, typer.Option("--tier", help="The viewer's clearance: public, internal, "
                                                               "confidential.")] = "public",
               case_classification: Annotated[str | None, typer.Option(
                   "--case-classification", help="The case's classification (default: same as --tier).")] = None,
               own_department: Annotated[bool, typer.Option(help="The viewer is in the case's department.")] = False,
               lang: LangOpt = "auto", jsonl: JsonlOpt = None) -> None:
    """Text as the tier may see it (ranges, masks, labels from policy)."""
    policy = _policy()
    audience = _audience(policy, tier, case_classification, own_department)
    language = _lang(lang)
    if jsonl is not None:
        out = sys.stdout
        for ident, text in _lines(jsonl):
            out.write(json.dumps({"id": ident, "text": render_text(policy, text, audience, lang=language)},
                                 ensure_ascii=False) + "\n")
        return
    text = read_input(file, "FILE", max_bytes=policy.doc.limits.case_file_max_bytes)
    sys.stdout.write(render_text(policy, text, audience, lang=language))


@app.command("backfill")
@guarded
def backfill(batch: Annotated[int, typer.Option("--batch", min=1, max=10_000, help="Versions per transaction.")]
             = 200) -> None:
    """Re-detect every case version stored by an older analyzer (or never scanned), re-render its tiers and
    re-index published ones. Idempotent and resumable: run it after upgrading Casebook."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

    from casebook.cli.common import context
    from library.index import backfill as run
    from redaction.analyzer import ANALYZER_VERSION

    ctx = context(None)
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=True) as bar:
        task = bar.add_task(say("out_redetecting", version=ANALYZER_VERSION), total=None)

        def progress(total: int | None, done: int = 0) -> None:
            if total is not None:
                bar.update(task, total=total)
            else:
                bar.advance(task, done)

        counts = run(ctx, batch=batch, progress=progress)
    console.print(say("out_backfilled", detected=counts["detected"], version=ANALYZER_VERSION,
                      indexed=counts["indexed"], similar=counts["similar"]))
