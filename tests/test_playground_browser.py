"""The playground page in a real browser: headless Chromium (Debian's), driven by Playwright.

A drill as someone trying the bot would run it: pick a person, declare through the modal, take
roles, write notes, pin, close and read the postmortem. Screenshots of each step land in
``test-artifacts/screenshots/playground-*.png``. Console errors and page errors fail the test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, expect

from incidentbot.playground import Playground
from tests.test_browser import SCREENSHOTS, browser  # noqa: F401 - the fixture

WAIT = 15_000  # ms; the page polls every 500 ms and the bot's jobs run in the background
INCIDENT = "inc-1-checkout-api-returning-500s"


class Tab:
    """A browser tab on the playground that records console messages and page errors."""

    def __init__(self, chromium, playground: Playground, name: str) -> None:  # type: ignore[no-untyped-def]
        self.context = chromium.new_context(
            accept_downloads=True, viewport={"width": 1280, "height": 900}
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(WAIT)
        self.name = name
        self.problems: list[str] = []
        self.page.on(
            "console",
            lambda m: (
                self.problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on(
            "dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss())
        )
        self.page.goto(playground.url)
        expect(self.page.locator("#channel-name")).to_have_text("#general")

    def shot(self, label: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"playground-{self.name}-{label}.png"))

    def act_as(self, user_id: str) -> None:
        self.page.select_option("#user-picker", user_id)
        expect(self.page.locator("#me-time")).not_to_be_empty()

    def send(self, text: str) -> None:
        box = self.page.locator("#composer-input")
        box.fill(text)
        box.press("Enter")
        expect(box).to_have_value("")

    def open_channel(self, name: str) -> None:
        self.page.locator("#channel-list a", has_text=name).click()
        expect(self.page.locator("#channel-name")).to_have_text(f"#{name}")

    def message(self, text: str) -> Locator:
        return self.page.locator("#messages .message", has_text=text).last

    def message_menu(self, text: str, item: str) -> None:
        """Hover a message, open its "More actions" menu and choose ``item``."""
        message = self.message(text)
        message.hover()
        message.get_by_role("button", name="More actions").click()
        message.get_by_role("menuitem", name=item).click()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def playground(tmp_path: Path) -> Iterator[Playground]:
    with Playground(state_dir=tmp_path / "state", port=0) as running:
        yield running


def test_a_drill_from_the_declare_modal_to_the_postmortem(browser, playground):  # noqa: F811
    print(f"\nScreenshots: {SCREENSHOTS}/playground-drill-*.png")
    tab = Tab(browser, playground, "drill")
    page = tab.page
    try:
        picker = page.locator("#user-picker")
        expect(picker).to_have_value("UALICE")
        assert "Bob Schneider (@bob) — Central European" in picker.inner_text()
        assert "Chandra Iyer (@chandra) — India Standard Time" in picker.inner_text()
        tab.shot("1-start")

        tab.send("/incident declare")
        modal = page.locator("#modal-overlay")
        expect(modal).to_be_visible()
        expect(page.locator("#modal-title")).to_have_text("Declare an incident")
        title = page.locator("[data-action-id=title_input]")
        title.fill("   ")
        page.locator("#modal-submit").click()
        expect(page.locator('.bk-input[data-block-id="title"] .bk-error')).to_contain_text(
            "An incident needs a title"
        )
        tab.shot("2-declare-refused")
        title.fill("Checkout API returning 500s")
        page.select_option("[data-action-id=severity_select]", "SEV2")
        tab.shot("3-declare-modal")
        page.locator("#modal-submit").click()
        expect(modal).to_be_hidden()

        expect(page.locator("#channel-list a", has_text=INCIDENT)).to_be_visible()
        expect(tab.message("is open in")).to_contain_text("Only visible to you")
        tab.open_channel(INCIDENT)
        expect(page.locator(".bk-header")).to_have_text("INC-1: Checkout API returning 500s")
        expect(page.locator(".bk-field", has_text="Severity")).to_contain_text("SEV2")
        expect(page.locator("#channel-topic")).to_contain_text("SEV2 | investigating")
        tab.shot("4-incident-channel")

        tab.send("/incident role comms @bob")
        expect(tab.message("is now comms (by")).to_contain_text("@bob is now comms (by @alice)")
        private = tab.message("is now comms of INC-1")
        expect(private).to_contain_text("Only visible to you")
        tab.send("/incident note Rolled back deploy 4411")
        expect(tab.message("Note from")).to_contain_text("Note from @alice: Rolled back deploy")
        tab.shot("5-role-and-note")

        tab.send("Error rate back to baseline")
        expect(tab.message("Error rate back to baseline")).to_contain_text("Alice Nakamura")
        tab.message_menu("Error rate back to baseline", "Pin to channel")
        pinned = tab.message("Error rate back to baseline")
        expect(pinned.locator(".pinned-note")).to_have_text("📌 Pinned by alice")
        expect(pinned.locator(".replies-link")).to_be_visible()
        pinned.locator(".replies-link").click()
        expect(page.locator("#thread-pane")).to_be_visible()
        expect(page.locator("#thread-messages .message")).not_to_have_count(1)
        tab.shot("6-pinned-and-thread")
        page.locator("#thread-close").click()

        tab.act_as("UBOB")
        expect(tab.message("is now comms (by")).to_be_visible()
        expect(page.locator("#messages .message.ephemeral")).to_have_count(0)
        tab.shot("7-as-bob-no-private-replies")
        tab.act_as("UALICE")
        expect(tab.message("is now comms of INC-1")).to_contain_text("Only visible to you")

        tab.send("/incident close")
        chip = page.locator(".file-chip", has_text="INC-1-postmortem.md")
        expect(chip).to_be_enabled()
        tab.shot("8-closed")
        chip.click()
        viewer = page.locator("#file-overlay")
        expect(viewer).to_be_visible()
        expect(page.locator("#file-body h1")).to_have_text("INC-1: Checkout API returning 500s")
        expect(page.locator("#file-body")).to_contain_text("Error rate back to baseline")
        tab.shot("9-postmortem")
        with page.expect_download() as download:
            page.locator("#file-download").click()
        path = download.value.path()
        assert Path(path).read_text().startswith("# INC-1: Checkout API returning 500s")
        page.locator("#file-close").click()
        expect(viewer).to_be_hidden()
        assert tab.problems == []
    finally:
        tab.close()


def test_home_tab_shortcut_reaction_joining_and_refusals(browser, playground):  # noqa: F811
    print(f"\nScreenshots: {SCREENSHOTS}/playground-more-*.png")
    tab = Tab(browser, playground, "more")
    page = tab.page
    try:
        page.locator("#home-link").click()
        home = page.locator("#home-view")
        expect(home.get_by_role("button", name="Declare incident")).to_be_visible()
        tab.shot("1-home")
        home.get_by_role("button", name="Declare incident").click()
        expect(page.locator("#modal-overlay")).to_be_visible()
        page.locator("[data-action-id=title_input]").fill("Search is slow")
        page.locator("#modal-submit").click()
        expect(page.locator("#modal-form")).to_contain_text("INC-1")
        tab.shot("2-declared-from-home")
        page.locator("#modal-cancel").click()
        expect(page.locator("#modal-overlay")).to_be_hidden()
        expect(home).to_contain_text("Search is slow")

        incident = page.locator("#channel-list a", has_text="inc-1-search-is-slow")
        incident.click()
        tab.send("Search p99 latency at 4s")
        message = tab.message("Search p99 latency at 4s")
        message.hover()
        message.get_by_role("button", name="React with :pushpin:").click()
        expect(message.locator(".reaction.mine")).to_have_text("📌 1")

        tab.send("Restarted search-2 to clear the queue")
        tab.message_menu("Restarted search-2", "Add to incident timeline")
        expect(page.locator("#modal-overlay")).to_be_visible()
        page.locator("[data-action-id=timeline_note_input]").fill("queue was 40k deep")
        tab.shot("3-timeline-shortcut")
        page.locator("#modal-submit").click()
        expect(page.locator("#modal-overlay")).to_be_hidden()
        expect(page.locator("#messages .message.ephemeral").last).to_contain_text(
            "Only visible to you"
        )
        tab.shot("4-reaction-and-shortcut")

        tab.act_as("UDANA")
        expect(page.locator("#join-bar")).to_be_visible()
        expect(page.locator("#composer")).to_be_hidden()
        tab.shot("5-not-a-member")
        page.locator("#join-button").click()
        expect(page.locator("#composer")).to_be_visible()
        expect(page.locator("#messages .system-line").last).to_contain_text(
            "@dana has joined the channel"
        )

        # Not tab.send(): a refused command stays in the composer to be corrected.
        page.locator("#composer-input").fill("/page someone")
        page.locator("#composer-input").press("Enter")
        expect(page.locator("#toast")).to_contain_text("/page is not a command")
        expect(page.locator("#composer-input")).to_have_value("/page someone")
        tab.shot("6-refused")
        page.locator("#composer-input").fill("<b>not bold</b> *bold* @erik")
        page.locator("#composer-input").press("Enter")
        shown = tab.message("not bold")
        expect(shown.locator(".content b")).to_have_text("bold")
        expect(shown.locator(".content")).to_contain_text("<b>not bold</b>")
        expect(shown.locator(".mention")).to_have_text("@erik")
        refused = [p for p in tab.problems if not re.search(r"status of 400", p)]
        assert refused == []
    finally:
        tab.close()
