"""``casebook keys``: the data keys of encryption at rest (status, a new key for CASEBOOK_DATA_KEY, rotation)."""

from __future__ import annotations

import base64
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from casebook.cli.common import JsonOpt, console, context, guarded, print_json, say
from casebook.core import audit, crypto, rekey

app = typer.Typer(no_args_is_help=True, help="Data keys of encryption at rest (confidential case content).")


def _bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=console)


@app.command("status")
@guarded
def status_cmd(json_out: JsonOpt = False) -> None:
    """Where the keys come from, which one encrypts, and how many stored values each key encrypts."""
    from casebook.models import Base

    ctx = context()
    ring = crypto.keyring_of(ctx.engine)
    assert ring is not None
    use = rekey.key_use(ctx.engine, Base.metadata)
    data = {"source": str(ring.path) if ring.path else "CASEBOOK_DATA_KEY", "current": ring.current,
            "keys": sorted(ring.keys), "retiring": ring.retiring, "encrypted_classifications": sorted(ring.sealed),
            "values_by_key": use}
    ctx.close()
    if json_out:
        print_json(data)
        return
    for name, value in data.items():
        console.print(f"{name}: {value}", highlight=False)


@app.command("new")
@guarded
def new_cmd() -> None:
    """Print a new random key in the form CASEBOOK_DATA_KEY takes (put it first, keep the old ones after it)."""
    typer.echo(base64.b64encode(crypto.new_key()).decode())


def _start_rotation(batch_ring: crypto.Keyring) -> crypto.Keyring:
    """A key file without a rotation in progress gets a new current key, the others marked retiring (kept until
    the rotation finishes); one with a rotation in progress is resumed as it is."""
    if batch_ring.path is None or batch_ring.retiring:
        return batch_ring
    key = crypto.new_key()
    kid = crypto.key_id(key)
    keys = {**batch_ring.keys, kid: key}
    crypto.save_key_file(batch_ring.path, keys, kid, sorted(batch_ring.keys))
    return crypto.Keyring(keys, kid, batch_ring.sealed, batch_ring.path, sorted(batch_ring.keys))


@app.command("rotate")
@guarded
def rotate_cmd(batch: Annotated[int, typer.Option(min=1, max=10_000, help="Values per transaction.")] = 500,
               json_out: JsonOpt = False) -> None:
    """Re-encrypt every stored value under a new key (key file: made here; CASEBOOK_DATA_KEY: the first key,
    which you put in front of the old ones), encrypting content stored before in plain text too.

    Resumable and idempotent: a run that stops is continued by the next one (the key file remembers the keys
    being retired); old keys are dropped from the key file only when no stored value uses them. Stop other
    Casebook processes (or restart them once the new key is in place) so that none writes with an old key."""
    from casebook.models import Base
    from casebook.sealing import count_cases, seal_existing

    ctx0 = context()
    ring0 = crypto.keyring_of(ctx0.engine)
    ctx0.close()
    assert ring0 is not None
    ring = _start_rotation(ring0)
    ctx = context()
    ring = crypto.keyring_of(ctx.engine)
    assert ring is not None
    with _bar() as bar:
        task = bar.add_task(say("out_keys_encrypting"), total=count_cases(ctx, ring))
        sealed = seal_existing(ctx, ring, progress=lambda n: bar.advance(task, n))
        task = bar.add_task(say("out_keys_reencrypting", key=ring.current), total=rekey.count_rows(ctx.engine, Base.metadata))
        counts = rekey.rotate(ctx.engine, Base.metadata, ring, batch=batch, progress=lambda n: bar.advance(task, n))
    left = {kid: n for kid, n in rekey.key_use(ctx.engine, Base.metadata).items() if kid not in ("plain", ring.current)}
    retired: list[str] = []
    if not left and ring.path is not None and ring.retiring:
        crypto.save_key_file(ring.path, {ring.current: ring.keys[ring.current]}, ring.current, [])
        retired = ring.retiring
    if ctx.engine.dialect.name == "sqlite" and (counts["reencrypted"] or any(sealed.values())):
        raw = ctx.engine.raw_connection()  # outside any transaction (the engine's begin takes the write lock)
        try:
            raw.driver_connection.execute("VACUUM")  # old ciphertexts and plain pages leave the file too
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # and the write-ahead log
        finally:
            raw.close()
    with ctx.engine.begin() as conn:
        audit.record(conn, ctx.audit, at=ctx.clock.now(), actor="system", action="keys.rotated",
                     subject_type="keys", subject_id=ring.current,
                     details={"reencrypted": counts["reencrypted"], "sealed": sealed, "retired": retired})
    ctx.close()
    result = {"current": ring.current, **counts, "sealed": sealed, "retired": retired, "still_in_use": left,
              "source": str(ring.path) if ring.path else "CASEBOOK_DATA_KEY"}
    if json_out:
        print_json(result)
        return
    console.print(say("out_keys_rotated", key=ring.current, reencrypted=counts["reencrypted"], seen=counts["seen"],
                      sealed=sealed), highlight=False)
    if retired:
        console.print(say("out_keys_retired", path=ring.path, keys=", ".join(retired)), highlight=False)
    elif ring.path is None and len(ring.keys) > 1 and not left:
        console.print(say("out_keys_env_old"), highlight=False)
    if left:
        console.print(say("out_keys_left", left=left), highlight=False)
