"""The capture form's owner is chosen by name: a select of active users showing display names (the value is the
user name the domain function takes, as the API's and the CLI's do); an unknown person is refused at the field."""

from __future__ import annotations

import re

from tests.web_helpers import NAMES, page_client, people


def test_owner_is_chosen_by_display_name_and_an_unknown_one_is_refused_at_the_field(ctx) -> None:
    people(ctx)
    c = page_client(ctx, "author")
    form = c.get("/cases/new").text
    select = re.search(r'<select id="f-owner" name="owner"[^>]*>(.*?)</select>', form, re.S)
    assert select, "the owner is a select"
    options = dict(re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1)))
    assert options["head"] == NAMES["head"] and options["author"] == NAMES["author"]
    assert re.search(r'<option value="author" selected>', select.group(1))   # the author by default

    refused = c.post("/cases/new", data={"title": "一個新案例", "owner": "nobody_here", "library": "enterprise_practice",
                                         "classification": "internal", "department": "marketing"})
    assert refused.status_code == 422
    error = re.search(r'<p class="error" id="e-owner-1"[^>]*>([^<]*)</p>', refused.text)
    assert error and "nobody_here" in error.group(1)     # keyed (err_not_active_user), at the owner field
    assert 'aria-invalid="true"' in re.search(r'<select id="f-owner"[^>]*>', refused.text).group(0)
