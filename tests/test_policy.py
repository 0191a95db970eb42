"""Policy as data: the default file holds SPEC.md's numbers; broken files list every problem with its path."""

from pathlib import Path

import yaml

from policies import DEFAULT_POLICY_PATH
from policies.loader import check_policy_file, parse_policy


def test_default_policy_holds_the_spec_numbers(policy) -> None:
    d = policy.doc
    assert d.timezone == "Asia/Shanghai"
    assert d.deadlines.submission.days_after_project_end == 15
    assert d.deadlines.micro_case_live_hours == 24
    assert d.libraries["industry_benchmark"].validity_months == 24
    assert d.libraries["enterprise_practice"].validity_months == 36
    assert d.libraries["industry_benchmark"].publish_channel == "instant"
    assert d.libraries["enterprise_practice"].publish_channel == "monthly_batch"
    assert d.lifecycle.staleness_months == 6
    assert d.review.rubric.criteria == ["authenticity", "completeness", "inspiration", "operability"]
    assert (d.review.rubric.levels, d.review.rubric.pass_min) == (4, 3)
    assert (d.ratings.rectification_below, d.ratings.rectification_start_hours) == (3, 48)
    assert d.ratings.correction_answer_hours == 48
    assert (d.health_check.yearly_retire_share, d.health_check.yearly_update_share,
            d.health_check.yearly_restructure_share) == (0.10, 0.20, 0.30)
    assert len(d.intake.mandatory_on_submit) == 15
    assert [lvl.role for lvl in d.review.chains["default"]] == ["case_specialist", "department_head", "committee_member"]
    assert {"intern", "staff", "case_specialist", "department_head", "committee_member", "operations", "executive",
            "admin"} <= set(d.roles)
    assert policy.version_tag.startswith(d.version + "+")


def _broken(tmp_path: Path, mutate) -> Path:
    raw = yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    mutate(raw)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_check_lists_every_problem_with_its_path(tmp_path: Path) -> None:
    def mutate(raw):
        raw["deadlines"]["submission"]["days_after_project_end"] = -1
        raw["libraries"]["industry_benchmark"]["review_chain"] = "nope"
        raw["roles"]["intern"]["clearance"] = "top-secret"
        raw["review"]["rubric"]["levelz"] = 4

    problems = {p.field: p.rule for p in check_policy_file(_broken(tmp_path, mutate))}
    assert "deadlines.submission.days_after_project_end" in problems
    assert "review.rubric.levelz" in problems and "Extra inputs" in problems["review.rubric.levelz"]
    # Cross-reference problems are only checked once the shapes are right, so fix shapes and check again.

    def mutate_refs(raw):
        raw["libraries"]["industry_benchmark"]["review_chain"] = "nope"
        raw["roles"]["intern"]["clearance"] = "top-secret"
        raw["timezone"] = "Mars/Olympus"

    problems = {p.field: p.rule for p in check_policy_file(_broken(tmp_path, mutate_refs))}
    assert problems["libraries.industry_benchmark.review_chain"] == "unknown chain 'nope'"
    assert problems["roles.intern.clearance"] == "unknown clearance 'top-secret'"
    assert "timezone" in problems


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("version: 1\ncalendar: [unclosed\n", encoding="utf-8")
    [problem] = check_policy_file(path)
    assert problem.field.startswith("line ")


def test_version_tag_changes_with_content() -> None:
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")
    a = parse_policy(text)
    b = parse_policy(text.replace("days_after_project_end: 15", "days_after_project_end: 14"))
    assert a.version_tag != b.version_tag
    assert b.doc.deadlines.submission.days_after_project_end == 14


def test_policy_cli(cli, tmp_path: Path) -> None:
    code, out, _ = cli("policy", "check", str(DEFAULT_POLICY_PATH))
    assert code == 0 and "ok" in out
    bad = _broken(tmp_path, lambda raw: raw["ratings"].update(scale_max=0))
    code, _, err = cli("policy", "check", str(bad))
    assert code == 2 and "ratings.scale_max" in err
    code, out, _ = cli("policy", "show", "--json")
    assert code == 0 and '"days_after_project_end": 15' in out


def test_check_refuses_references_to_unknown_roles_and_classifications(tmp_path: Path) -> None:
    def mutate(raw):
        raw["notifications"]["dead_letter_role"] = "nobody"
        raw["security"]["access_request_approver_role"] = "nobody"
        raw["notifications"]["brief_roles"] = ["ghost"]
        raw["notifications"]["reviewer_digest_roles"] = ["case_specialist", "phantom"]
        raw["operations_role"] = "janitor"
        raw["security"]["access_request_classifications"] = ["secret"]

    problems = {p.field: p.rule for p in check_policy_file(_broken(tmp_path, mutate))}
    assert problems["notifications.dead_letter_role"] == "unknown role 'nobody'"
    assert problems["security.access_request_approver_role"] == "unknown role 'nobody'"
    assert problems["notifications.brief_roles.0"] == "unknown role 'ghost'"
    assert problems["notifications.reviewer_digest_roles.1"] == "unknown role 'phantom'"
    assert problems["operations_role"] == "unknown role 'janitor'"
    assert problems["security.access_request_classifications.0"] == "unknown classification 'secret'"
