"""The case page's follow button and "I reused this case" form: page twins of domain functions, CSRF-checked."""

from __future__ import annotations

from notifications.follows import is_following
from tests.web_helpers import form_token, page_client, people, published_case


def test_follow_and_unfollow_from_the_case_page(ctx, full_case) -> None:
    users = people(ctx)
    key = published_case(ctx, users, full_case, "public")
    head = page_client(ctx, "head")
    page = head.get(f"/cases/{key}")
    assert page.status_code == 200 and f'action="/cases/{key}/follow"' in page.text
    assert 'action="/cases/' + key + '/reuse"' in page.text
    token = form_token(head, f"/cases/{key}")

    forged = head.post(f"/cases/{key}/follow", data={"follow": "on", "csrf_token": ""}, follow_redirects=False)
    assert forged.status_code == 403 and not is_following(ctx, users["head"], key)

    done = head.post(f"/cases/{key}/follow", data={"follow": "on", "csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("done=followed")
    assert is_following(ctx, users["head"], key)
    shown = head.get(done.headers["location"]).text
    assert 'name="follow" value="off"' in shown          # the button now offers to stop following

    head.post(f"/cases/{key}/follow", data={"follow": "off", "csrf_token": token}, follow_redirects=False)
    assert not is_following(ctx, users["head"], key)
