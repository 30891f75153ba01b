"""The web pages in a real browser: headless Chromium (Debian's), driven by Playwright.

Screenshots of every page land in ``test-artifacts/screenshots`` (printed by the test).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from incidentbot.domain.models import TimelineEntry
from incidentbot.entrypoints.local import LocalStack
from tests.e2e import declare, ephemeral_texts, mention

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("Chromium is not installed (apt-get install chromium) ")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


class Page:
    """A browser tab that records console messages, page errors and dialogs."""

    def __init__(self, browser, stack: LocalStack, name: str) -> None:  # type: ignore[no-untyped-def]
        self.context = browser.new_context(
            accept_downloads=True, viewport={"width": 1200, "height": 900}
        )
        self.page = self.context.new_page()
        self.stack = stack
        self.name = name
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on(
            "dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss())
        )

    def shot(self, label: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{self.name}-{label}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


def summary_link(stack: LocalStack, channel_id: str) -> str:
    summary = stack.workspace.messages(channel_id)[0]
    match = re.search(r"<(http[^|>]+)\|Incident page>", str(summary.blocks))
    assert match, "the summary message has no link to the incident page"
    return match.group(1).replace("&amp;", "&")


def test_follow_the_summary_link_and_review_the_postmortem(browser, db_url):
    print(f"\nScreenshots: {SCREENSHOTS}")
    with LocalStack(database_url=db_url, timezone="Europe/Berlin") as stack:
        channel = declare(stack, "Checkout API returning 500s")
        run = stack.driver.command
        stack.driver.join("bob", channel.id)
        run("alice", channel.id, "sev 2")
        run("alice", channel.id, f"role comms {mention('UBOB')}")
        run(
            "bob",
            channel.id,
            "note <script>alert(1)</script> {{ 7*7 }} <img src=x onerror=alert(2)>",
        )
        ts = stack.driver.post_message("bob", channel.id, "Rolled back deploy 4411")
        stack.driver.pin("bob", channel.id, ts)
        run("alice", channel.id, "action Add canary analysis <@UBOB|bob>")
        run("alice", channel.id, "status monitoring")
        run("alice", channel.id, "close")
        stack.settle()
        run("alice", channel.id, "postmortem")
        stack.settle()
        with stack.runtime.uow() as uow:
            entries = uow.session.scalar(select(func.count(TimelineEntry.id)))

        tab = Page(browser, stack, f"incident-{db_url.split(':')[0]}")
        try:
            tab.page.goto(summary_link(stack, channel.id))
            assert tab.page.url.endswith("/incidents/1")  # the token left the address bar
            assert tab.page.locator("h1").inner_text() == "INC-1: Checkout API returning 500s"
            assert tab.page.locator("svg [data-entry-id]").count() == entries
            tab.page.locator("svg [data-entry-id]").first.focus()
            text = tab.page.locator("main").inner_text()
            assert (
                "<script>alert(1)</script> {{ 7*7 }}" in text
                and "49" not in text.split("{{")[0][-3:]
            )
            tab.shot("incident")

            tab.page.get_by_role("link", name="Version 2").click()
            assert "version=2" in tab.page.url
            assert tab.page.locator("article h1").first.inner_text().startswith("INC-1")
            assert "{{ 7*7 }}" in tab.page.locator("article").inner_text()
            tab.shot("postmortem")
            with tab.page.expect_download() as download_info:
                tab.page.get_by_role("link", name="Download Markdown").click()
            download = download_info.value
            assert download.suggested_filename == "INC-1-postmortem-v2.md"
            assert Path(download.path()).read_text().startswith("# INC-1: Checkout API")

            tab.page.get_by_role("link", name=re.compile("Changes since version 1")).click()
            tab.shot("diff")
            tab.page.goto(f"{stack.base_url}/")
            assert tab.page.get_by_role("link", name="INC-1").count() == 1
            tab.shot("index")
            tab.page.goto(f"{stack.base_url}/insights")
            assert tab.page.locator("svg").count() >= 2
            tab.shot("insights")
            tab.page.set_viewport_size({"width": 390, "height": 844})  # a phone
            tab.page.goto(f"{stack.base_url}/incidents/1")
            width = tab.page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
            tab.shot("incident-phone")
            assert tab.problems == []
        finally:
            tab.close()


def test_an_unsigned_visit_gets_401_and_a_private_incident_stays_hidden(browser, db_url):
    with LocalStack(database_url=db_url) as stack:
        stack.driver.command("bob", "#general", "declare")
        (modal,) = stack.workspace.open_views("bob")
        stack.driver.submit_view(
            "bob", modal.id, {"title_input": "Credential leak", "private_checkbox": ["private"]}
        )
        stack.settle()
        tab = Page(browser, stack, f"access-{db_url.split(':')[0]}")
        try:
            response = tab.page.goto(f"{stack.base_url}/incidents/1")
            assert response.status == 401
            assert "/incident link" in tab.page.locator("main").inner_text()
            tab.shot("unauthorized")
            stack.driver.command("erik", "#general", "link")
            link = re.search(r"<(http[^|>]+)\|", ephemeral_texts(stack, "erik", "#general")[-1])
            tab.page.goto(link.group(1))
            assert "Credential leak" not in tab.page.locator("main").inner_text()
            assert tab.page.goto(f"{stack.base_url}/incidents/1").status == 404
            tab.shot("private-hidden")
            assert [p for p in tab.problems if "401" not in p and "404" not in p] == []
        finally:
            tab.close()
