"""The web pages: opened through a signed link from Slack, closed to everyone else."""

from __future__ import annotations

import re
from http.cookiejar import CookieJar
from urllib.error import HTTPError
from urllib.request import HTTPCookieProcessor, build_opener, urlopen

import pytest

from incidentbot.local import LocalStack
from tests.e2e import declare, ephemeral_texts


def link_from_slack(stack: LocalStack, user: str, channel: str) -> str:
    stack.driver.command(user, channel, "link")
    match = re.search(r"<(http[^|>]+)\|", ephemeral_texts(stack, user, channel)[-1])
    assert match, "no link in the reply"
    return match.group(1).replace("&amp;", "&")


def browser():  # type: ignore[no-untyped-def]
    return build_opener(HTTPCookieProcessor(CookieJar()))


def test_a_signed_link_from_slack_opens_the_incident_and_its_postmortem(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.driver.command("alice", channel.id, "note <script>alert(1)</script> {{ 7*7 }}")
    stack.driver.command("alice", channel.id, "close")
    stack.settle()
    url = link_from_slack(stack, "alice", channel.id)
    assert "/incidents/1?token=" in url

    opener = browser()
    with opener.open(url) as page:
        html = page.read().decode()
        assert page.url == f"{stack.base_url}/incidents/1"  # token dropped from the address
        assert "Search is slow" in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }}" in html
        assert "<script>" not in html
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        assert page.headers["X-Content-Type-Options"] == "nosniff"
    with opener.open(f"{stack.base_url}/") as page:
        assert "INC-1" in page.read().decode()
    with opener.open(f"{stack.base_url}/incidents/1/postmortem") as page:
        assert "<h1" in page.read().decode()
    with opener.open(f"{stack.base_url}/incidents/1/postmortem.md?version=1") as download:
        assert download.headers["Content-Disposition"].endswith('INC-1-postmortem-v1.md"')
        assert download.read().decode().startswith("# INC-1: Search is slow")


@pytest.mark.parametrize("path", ["/", "/incidents/1", "/incidents/1/postmortem"])
def test_pages_without_a_link_get_401_saying_how_to_get_one(stack: LocalStack, path: str):
    declare(stack, "Search is slow")
    with pytest.raises(HTTPError) as refused:
        urlopen(f"{stack.base_url}{path}")
    assert refused.value.code == 401
    assert "/incident link" in refused.value.read().decode()


def test_a_forged_or_tampered_token_gets_401(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    url = link_from_slack(stack, "alice", channel.id)
    tampered = url.replace("token=UALICE", "token=UBOB")
    for bad in (tampered, f"{stack.base_url}/incidents/1?token=nonsense"):
        with pytest.raises(HTTPError) as refused:
            browser().open(bad)
        assert refused.value.code == 401


def test_unknown_incidents_and_versions_are_not_found(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    opener = browser()
    opener.open(link_from_slack(stack, "alice", channel.id)).read()
    for path in ("/incidents/42", "/incidents/1/postmortem?version=3"):
        with pytest.raises(HTTPError) as missing:
            opener.open(f"{stack.base_url}{path}")
        assert missing.value.code == 404


def test_the_shared_read_token_shows_public_incidents_only(db_url):
    with LocalStack(database_url=db_url, web_token="shared-read-token-for-tests") as stack:
        declare(stack, "Search is slow")
        stack.driver.command("bob", "#general", "declare")
        (modal,) = stack.workspace.open_views("bob")
        stack.driver.submit_view(
            "bob", modal.id, {"title_input": "Credential leak", "private_checkbox": ["private"]}
        )
        stack.settle()
        opener = browser()
        with opener.open(f"{stack.base_url}/?token=shared-read-token-for-tests") as page:
            html = page.read().decode()
        assert "Search is slow" in html and "Credential leak" not in html
        with pytest.raises(HTTPError) as hidden:
            opener.open(f"{stack.base_url}/incidents/2")
        assert hidden.value.code == 404
