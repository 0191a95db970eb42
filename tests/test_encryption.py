"""Encryption at rest (issue 16 item 9): a confidential case's content is in no database byte in plain text,
cleared readers still read and find it, and ``casebook keys rotate`` re-encrypts under a new key."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import Text, select, text

from casebook.core import crypto
from casebook.core.settings import Settings
from library.search import search
from lifecycle.models import Case, CaseVersion
from flows.registry import run_job
from lifecycle.service import CaseService
from redaction.views import rendered_view
from tests.conftest import decide
from tests.web_helpers import client, people

# Phrases written for this test (title, body), in the forms a store could hold them: UTF-8, and the \u escapes
# of JSON written with ensure_ascii.
TITLE = "鳳梨酥禮盒夜市快閃"
PHRASES = [TITLE, "鳳梨酥禮盒", "夜市攤位連開七晚", "Pineapple Nightmarket Pilot"]


def _variants(phrase: str) -> list[bytes]:
    return [phrase.encode(), json.dumps(phrase)[1:-1].encode(), phrase.encode("utf-16-le")]


def published(ctx, users, doc: dict, classification: str) -> str:
    svc = CaseService(ctx)
    key = svc.create(users["author"], doc | {"classification": classification, "library": "industry_benchmark"})
    svc.fire(users["author"], key, "submit")
    for reviewer in ("spec", "head", "com"):
        decide(ctx, users[reviewer], key)
    run_job(ctx, "publish_approved", deliver_after=False)
    assert svc.view(users["com"], key).state == "published"
    return key


def _confidential(ctx, users, full_case) -> str:
    doc = full_case | {"title": TITLE, "body": full_case["body"] | {
        "execution": "夜市攤位連開七晚,每晚試吃三百份。", "reflection": "Pineapple Nightmarket Pilot: keep it."}}
    return published(ctx, users, doc, "confidential")


def _raw_bytes(ctx) -> bytes:
    """Every byte the store keeps: the SQLite file and its WAL, or PostgreSQL's table contents as text."""
    if ctx.engine.dialect.name == "sqlite":
        path = Path(ctx.engine.url.database)
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    out = []
    with ctx.engine.connect() as conn:
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
        for t in tables:
            for row in conn.execute(text(f'SELECT t::text FROM "{t}" t')):
                out.append(row[0].encode())
    return b"\n".join(out)


def _leaks(ctx) -> list[str]:
    raw = _raw_bytes(ctx)
    return [p for p in PHRASES if any(v in raw for v in _variants(p))]


def test_confidential_case_is_in_no_raw_byte_yet_cleared_readers_read_and_find_it(ctx, full_case) -> None:
    users = people(ctx)
    internal = published(ctx, users, full_case | {"title": "公開的夜市研究"}, "internal")
    key = _confidential(ctx, users, full_case)
    assert _leaks(ctx) == []
    # the same text in an internal case is stored as it is (only policy's classifications are encrypted)
    raw = _raw_bytes(ctx)
    assert any(v in raw for v in _variants("公開的夜市研究"))
    # the executive (confidential clearance) reads it through the API and finds it by title and body words
    r = client(ctx, "exec").get(f"/api/v1/cases/{key}")
    assert r.status_code == 200, r.text
    assert r.json()["document"]["title"] == TITLE
    assert "夜市攤位連開七晚" in r.json()["document"]["body"]["execution"]
    assert key in [h.key for h in search(ctx, users["exec"], "鳳梨酥").items]
    assert key in [h.key for h in search(ctx, users["exec"], "攤位").items]
    assert key in [h.key for h in search(ctx, users["exec"], "pineapple").items]
    # a reader without the clearance neither reads nor finds it
    assert client(ctx, "intern").get(f"/api/v1/cases/{key}").status_code in (403, 404)
    assert key not in [h.key for h in search(ctx, users["intern"], "鳳梨酥").items]
    assert internal in [h.key for h in search(ctx, users["head"], "夜市").items]
    # what is stored is an envelope naming its key
    with ctx.engine.connect() as conn:
        envelope = conn.execute(text("SELECT document FROM case_versions v JOIN cases c ON c.id = v.case_id "
                                     "WHERE c.key = :k"), {"k": key}).scalar_one()
    envelope = json.loads(envelope) if isinstance(envelope, str) else envelope
    assert envelope["cbenc"] == 1 and envelope["kid"] == crypto.keyring_of(ctx.engine).current


def test_key_file_is_private_and_a_missing_key_is_named(ctx, full_case, home) -> None:
    path = home / crypto.KEY_FILE
    assert path.exists() and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    users = people(ctx)
    key = _confidential(ctx, users, full_case)
    ring = crypto.keyring_of(ctx.engine)
    with ctx.engine.connect() as conn:
        raw = conn.execute(select(text("title")).select_from(Case.__table__).where(Case.__table__.c.key == key)
                           ).scalar_one()
    assert raw.startswith(crypto.TEXT_PREFIX)
    crypto._KNOWN.pop(ring.current)           # as if the key were lost
    try:
        with pytest.raises(crypto.KeyMissing, match=ring.current):
            rendered_view(ctx, users["exec"], key)
    finally:
        crypto._KNOWN[ring.current] = ring.keys[ring.current]


def test_data_key_from_the_environment(ctx, monkeypatch) -> None:
    key = crypto.new_key()
    monkeypatch.setenv("CASEBOOK_DATA_KEY", base64.b64encode(key).decode())
    ring = crypto.load_keyring(Settings(), {"confidential"})
    assert ring.current == crypto.key_id(key) and ring.path is None
    monkeypatch.setenv("CASEBOOK_DATA_KEY", "not-a-key")
    with pytest.raises(crypto.KeyConfigError, match="CASEBOOK_DATA_KEY: key 1 must be 32 bytes"):
        crypto.load_keyring(Settings(), {"confidential"})


def _kids(ctx) -> set[str]:
    out = set()
    with ctx.engine.connect() as conn:
        for value in conn.execute(select(CaseVersion.__table__.c.document.cast(Text))).scalars():
            if '"cbenc"' in value:
                out.add(json.loads(value)["kid"])
        for value in conn.execute(text("SELECT title FROM cases")).scalars():
            if value.startswith(crypto.TEXT_PREFIX):
                out.add(crypto.envelope_kid(value))
    return out


def test_keys_rotate_reencrypts_resumably_and_seals_plain_content(ctx, full_case, home, cli) -> None:
    users = people(ctx)
    key = _confidential(ctx, users, full_case)
    old = crypto.keyring_of(ctx.engine).current
    # a case stored plain before it became confidential (or before encryption at rest): written plain here
    plain = published(ctx, users, full_case | {"title": "舊資料裡的機密檔"}, "internal")
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE cases SET classification = 'confidential' WHERE key = :k"), {"k": plain})
    assert any(v in _raw_bytes(ctx) for v in _variants("舊資料裡的機密檔"))
    assert _kids(ctx) == {old}

    code, out, err = cli("keys", "rotate", "--json")
    assert code == 0, err
    result = json.loads(out[out.index("{"):])
    new = result["current"]
    assert new != old and result["retired"] == [old] and result["still_in_use"] == {}
    assert result["sealed"]["titles"] == 1 and result["sealed"]["versions"] >= 1
    assert _kids(ctx) == {new}
    ctx.engine.dispose()  # the raw file as a backup would copy it (no pooled connection holding WAL pages)
    assert not any(v in _raw_bytes(ctx) for v in _variants("舊資料裡的機密檔"))
    keyfile = json.loads((home / crypto.KEY_FILE).read_text())
    assert list(keyfile["keys"]) == [new] and keyfile["retiring"] == []
    assert stat.S_IMODE(os.stat(home / crypto.KEY_FILE).st_mode) == 0o600

    # a fresh process knows only the new key and still reads both cases (API) and finds them
    crypto._KNOWN.pop(old, None)
    from casebook.assembly import build_context

    fresh = build_context(settings=Settings(), clock=ctx.clock, policy=ctx.policy)
    try:
        assert rendered_view(fresh, users["exec"], key)[0].document["title"] == TITLE
        assert rendered_view(fresh, users["exec"], plain)[0].document["title"] == "舊資料裡的機密檔"
        assert plain in [h.key for h in search(fresh, users["exec"], "機密檔").items]
    finally:
        fresh.close()

    # again: nothing left to do but a new key; an interrupted rotation (retiring keys in the file) resumes
    code, out, _ = cli("keys", "rotate", "--json")
    second = json.loads(out[out.index("{"):])
    assert second["current"] != new and second["reencrypted"] == result["seen"] and second["sealed"]["titles"] == 0
    keyfile = json.loads((home / crypto.KEY_FILE).read_text())
    keyfile["retiring"] = [second["current"]]  # as if stopped before the end: the next run adds no key
    keyfile["keys"][new] = base64.b64encode(crypto._KNOWN[new]).decode()
    (home / crypto.KEY_FILE).write_text(json.dumps(keyfile))
    code, out, _ = cli("keys", "rotate", "--json")
    third = json.loads(out[out.index("{"):])
    assert third["current"] == second["current"] and third["reencrypted"] == 0
    assert _kids(ctx) == {second["current"]}


def test_a_case_reclassified_as_confidential_is_sealed_from_then_on(ctx, full_case) -> None:
    users = people(ctx)
    svc = CaseService(ctx)
    key = svc.create(users["author"], full_case | {"title": "改列機密的草稿", "classification": "internal"})
    svc.edit(users["author"], key, {"classification": "confidential"})
    with ctx.engine.connect() as conn:
        title = conn.execute(text("SELECT title FROM cases WHERE key = :k"), {"k": key}).scalar_one()
        documents = conn.execute(text("SELECT v.document FROM case_versions v JOIN cases c ON c.id = v.case_id "
                                      "WHERE c.key = :k ORDER BY v.number"), {"k": key}).scalars().all()
    assert title.startswith(crypto.TEXT_PREFIX)
    assert "cbenc" not in str(documents[0]) and "cbenc" in str(documents[1])  # version 1: keys rotate seals it
    assert svc.view(users["author"], key).document["title"] == "改列機密的草稿"


def test_concurrent_first_use_agrees_on_one_key(tmp_path) -> None:
    import threading

    settings = Settings(home=tmp_path / "fresh")
    rings: list[crypto.Keyring] = []
    threads = [threading.Thread(target=lambda: rings.append(crypto.load_keyring(settings))) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(rings) == 12 and len({r.current for r in rings}) == 1
    assert [p.name for p in (tmp_path / "fresh").iterdir()] == [crypto.KEY_FILE]
