"""``casebook audit verify`` and ``casebook audit checkpoint``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from casebook.cli.common import JsonOpt, NowOpt, console, context, err_console, guarded, print_json, say
from casebook.core import checkpoint, integrity
from casebook.core.errors import InvalidInput, Problem
from lifecycle.replay import replay

app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit log and access log.")

CheckpointOpt = Annotated[Path | None, typer.Option(
    "--checkpoint", help="A checkpoint written by 'casebook audit checkpoint', kept outside the database.")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Write the checkpoint to this file (default: stdout).")]


def _read_checkpoint(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InvalidInput([Problem.of("--checkpoint", "err_checkpoint_unreadable", path=path, detail=exc)],
                           "audit verify") from None
    if not isinstance(doc, dict):
        raise InvalidInput([Problem.of("--checkpoint", "err_not_checkpoint", path=path)], "audit verify")
    return doc


@app.command("verify")
@guarded
def verify(checkpoint_file: CheckpointOpt = None, json_out: JsonOpt = False) -> None:
    """Check every shard of the audit and access logs, the stored checkpoints, each case row against its
    replayed events, and (given) a checkpoint kept outside the database: exit 0 if all hold, 1 naming the first
    problem of each part that does not."""
    external = _read_checkpoint(checkpoint_file) if checkpoint_file is not None else None
    ctx = context()
    ctx.access_log.flush()
    with ctx.engine.connect() as conn:
        findings = integrity.check(conn, ctx.audit.key, external)
        rows = replay(conn, ctx.policy)
    findings.append(integrity.Finding("case rows", rows.ok, rows.checked, "; ".join(rows.problems)))
    ok = all(f.ok for f in findings)
    if json_out:
        print_json({"ok": ok, "parts": [{"part": f.part, "ok": f.ok, "checked": f.checked, "problem": f.problem,
                                         "shard": f.shard, "position": f.position} for f in findings]})
    else:
        for f in findings:
            if f.ok:
                console.print(say("out_audit_intact_note", part=f.part, checked=f.checked, note=f.problem)
                              if f.problem else say("out_audit_intact", part=f.part, checked=f.checked), highlight=False)
            else:
                broken = say("out_audit_broken", part=f.part, problem=f.problem, checked=f.checked)
                err_console.print(f"[bold red]{escape(broken)}[/]", highlight=False, markup=True)
    if not ok:
        raise typer.Exit(1)


@app.command("checkpoint")
@guarded
def write_checkpoint(out: OutOpt = None, now: NowOpt = None) -> None:
    """Record every shard's head (position, hash) as a signed checkpoint in the database and print it (or write
    it to --out) to be kept outside it: 'verify --checkpoint FILE' then finds truncation or rewriting behind it."""
    ctx = context(now)
    ctx.access_log.flush()
    with ctx.engine.begin() as conn:
        doc = checkpoint.write(conn, ctx.audit.key, ctx.clock.now())
    text = json.dumps(doc, sort_keys=True, indent=1)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n")
        console.print(say("out_checkpoint_written", id=doc["id"], path=out), highlight=False)
