"""The read rule includes state: every output path x lifecycle state x role. Withdrawn content reaches only the
roles policy names, another user's draft nobody but its owner and author, and a version in progress only the
working-version readers: everybody else reads the published version."""

from __future__ import annotations

from datetime import timedelta

import pytest
from typer.testing import CliRunner

from casebook.cli import app
from flows.registry import run_job
from lifecycle.service import CaseService
from notifications.sink import SmtpSink
from tests.web_helpers import FIGURE, client, page_client, people, published_case

NEXT = "第二版草稿獨有的句子"   # only in the version being worked on
DRAFT = "作者私人草稿的標題"     # only in an unsubmitted draft


@pytest.fixture
def users(ctx):
    return people(ctx)


def _cases(ctx, users, full_case) -> dict[str, str]:
    svc = CaseService(ctx)
    keys = {"published": published_case(ctx, users, full_case, "public")}
    keys["withdrawn"] = published_case(ctx, users, full_case, "public")
    svc.fire(users["com"], keys["withdrawn"], "withdraw", reason="法務要求下架")
    keys["updating"] = published_case(ctx, users, full_case, "public")
    svc.fire(users["author"], keys["updating"], "start_update")
    svc.edit(users["author"], keys["updating"], {"body": full_case["body"] | {"goal": NEXT}})
    keys["draft"] = svc.create(users["author"], full_case | {"title": DRAFT, "classification": "public"})
    keys["archived"] = published_case(ctx, users, full_case, "public")   # withdrawn, then archived
    svc.fire(users["com"], keys["archived"], "withdraw", reason="合規")
    svc.fire(users["ops"], keys["archived"], "archive")
    return keys


def _expected(ctx, who: str, role: str, state: str) -> tuple[bool, bool]:
    """(may read the case, reads the version in progress), from the policy's lists and the case's author."""
    sec = ctx.policy.doc.security
    author = who == "author"
    if state in ("withdrawn", "archived"):
        return role in sec.withdrawn_readers, False
    if state == "draft":
        return author, author
    return True, author or role in sec.working_version_roles   # no open task while updating


def test_every_output_path_state_and_role(ctx, users, full_case) -> None:
    keys = _cases(ctx, users, full_case)
    states = {s: CaseService(ctx).view(users["com"], k).state for s, k in keys.items() if s != "draft"}
    assert states == {"published": "published", "withdrawn": "withdrawn", "updating": "updating",
                      "archived": "archived"}
    with SmtpSink() as sink:                       # the weekly pack (a Monday) lists what each reader may read
        ctx.settings = ctx.settings.model_copy(update={"smtp_port": sink.port})
        ctx.clock.current += timedelta(days=(7 - ctx.clock.current.weekday()) % 7)
        run_job(ctx, "digests")
        mails = {m["To"].split("@")[0]: m.get_body(("plain",)).get_content() for m in sink.messages
                 if "scenario_pack" in m["X-Casebook-Key"]}
    runner = CliRunner()
    checked = 0
    for who, actor in users.items():
        api, pages = client(ctx, who), page_client(ctx, who)
        found = {h["key"] for h in api.get("/api/v1/search", params={"q": "快閃店"}).json()["items"]}
        for state, key in keys.items():
            readable, in_progress = _expected(ctx, who, actor.role, state)
            cli = runner.invoke(app, ["case", "show", key, "--as", who, "--json"])
            number = 2 if state == "updating" else 1      # the version in progress, or the first one
            paths = {"api": api.get(f"/api/v1/cases/{key}"),
                     "version": api.get(f"/api/v1/cases/{key}", params={"version": number}),
                     "export": api.get(f"/api/v1/cases/{key}/export"),
                     "versions": api.get(f"/api/v1/cases/{key}/versions"), "page": pages.get(f"/cases/{key}")}
            for name, r in paths.items():
                ok = r.status_code == 200
                if name == "version" and state == "updating":
                    assert ok == in_progress, (who, state, name)   # v2 is not published: readers get v1 only
                    continue
                assert ok == readable, (who, state, name, r.status_code)
                if not ok:
                    assert NEXT not in r.text and DRAFT not in r.text and FIGURE not in r.text
                elif state == "updating" and name in ("api", "page", "export"):
                    assert (NEXT in r.text) == in_progress, (who, state, name)
                checked += 1
            assert (cli.exit_code == 0) == readable, (who, state, "cli", cli.exit_code, cli.output)
            assert "Traceback" not in cli.output
            if not readable:
                assert cli.exit_code == 6 and NEXT not in cli.output and DRAFT not in cli.output
            elif state == "updating":
                assert (NEXT in cli.output) == in_progress, (who, state, "cli")
            listed_in_search = key in found
            assert listed_in_search == (readable and state in ("published", "updating")), (who, state, "search")
            if state == "updating" and listed_in_search:
                hit = api.get("/api/v1/search", params={"q": "首發兩週"}).json()["items"]
                assert all(NEXT not in h["snippet"] for h in hit)          # search reads the published version
            packed = users[who].role in ctx.policy.doc.notifications.scenario_pack_roles  # the pack's roles
            assert (key in mails.get(who, "")) == (readable and state == "published" and packed), \
                (who, state, "digest")
    assert checked > 150


def test_a_message_queued_before_a_take_down_no_longer_shows_the_title(policy) -> None:
    from casebook.core.users import Actor
    from notifications.render import Recipient, render_message

    ref = {"key": "CB-000007", "title": "機密標題", "classification": "public", "department": "marketing",
           "author_id": 1, "owner_id": 1, "state": "published", "published": True, "withdrawn": False}
    reader = Recipient(Actor("intern", "intern", "marketing", "public", 9), "i@example.test", "zh-Hant")
    editor = Recipient(Actor("ops", "operations", "ops", "internal", 8), "o@example.test", "zh-Hant")
    payload = {"case": ref, "last_update": "2026-01-01"}
    assert "機密標題" in render_message(policy, "stale_case", payload, reader).text
    down = {"case": ref | {"state": "withdrawn", "withdrawn": True}, "last_update": "2026-01-01"}
    assert "機密標題" not in render_message(policy, "stale_case", down, reader).text
    assert ("機密標題" in render_message(policy, "stale_case", down, editor).text) == \
        ("operations" in policy.doc.security.withdrawn_readers)
