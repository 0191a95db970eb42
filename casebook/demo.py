"""``casebook up --demo``: a few users and cases written for Casebook (no corpus text), in several states."""

from __future__ import annotations

from casebook.core.context import AppContext
from casebook.core.errors import InvalidInput
from casebook.core.users import Actor, add_user
from lifecycle.service import CaseService

USERS = [("demo_author", "staff", "marketing", "zh-Hant"), ("demo_author2", "staff", "sales", "zh-Hans"),
         ("demo_spec", "case_specialist", "ops", "zh-Hans"), ("demo_head", "department_head", "marketing", "zh-Hant"),
         ("demo_com", "committee_member", "committee", "en"), ("demo_ops", "operations", "ops", "zh-Hans"),
         ("demo_intern", "intern", "marketing", "zh-Hant"), ("demo_exec", "executive", "board", "en")]

CASES = [
    {"title": "社區團購首月拉新", "library": "enterprise_practice", "scenario": "user_operation", "outcome": "success",
     "classification": "internal", "department": "marketing", "project_start": "2026-08-01",
     "project_end": "2026-09-15", "budget": {"amount": 320000, "currency": "CNY"},
     "body": {"background": "新開三個社區站點,鄰里認知度低。", "goal": "首月團長五十名,復購率達到百分之三十。",
              "strategy": "以團長分潤加社群試吃帶動口碑。", "execution": "每站點兩場試吃,由運營經理陳志明統籌。",
              "data": "團長五十八名,復購率百分之三十四,投入三十二萬元。", "reflection": "試吃排期過密,團長疲勞。"}},
    {"title": "Campus coffee pop-up", "library": "industry_benchmark", "scenario": "event_marketing",
     "outcome": "to_be_optimised", "classification": "public", "department": "sales", "project_start": "2026-09-01",
     "project_end": "2026-10-10", "budget": {"amount": 80000, "currency": "CNY"},
     "body": {"background": "Low awareness among first-year students.", "goal": "2,000 trial cups in two weeks.",
              "strategy": "Pop-up carts at lecture halls with a loyalty stamp card.",
              "execution": "Four carts, two shifts a day.", "data": "1,640 trial cups; budget $11,000 spent.",
              "reflection": "Rain halved traffic on three days."}},
]


def load_demo(ctx: AppContext) -> str:
    actors: dict[str, Actor] = {}
    with ctx.sessions.begin() as session:
        for username, role, dept, locale in USERS:
            try:
                user = add_user(session, ctx.policy, ctx.audit, ctx.clock.now(), actor="demo", username=username,
                                role=role, department=dept, locale=locale, email=f"{username}@example.test")
                actors[username] = Actor.of(user)
            except InvalidInput:
                return "already loaded"
    from access.accounts import set_password

    for username in actors:
        set_password(ctx, Actor.system("demo"), username, "casebook-demo")   # demo only: documented in README
    svc = CaseService(ctx)
    keys = [svc.create(actors["demo_author"], CASES[0] | {"owner": "demo_author"}),
            svc.create(actors["demo_author2"], CASES[1] | {"owner": "demo_author2"})]
    return f"{len(actors)} users (password casebook-demo), cases {', '.join(keys)} (drafts)"
