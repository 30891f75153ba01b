"""``incidentbot demo``: a whole incident, played against the local Slack workspace.

People in four time zones declare, take roles, change severity and status, write notes (one
backdated in the author's own zone), pin and :pushpin: messages, file an action item, resolve
and close. A simulated clock moves the incident through realistic minutes; the script prints
what the channels show as it goes and writes the postmortem it produced.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import select

from incidentbot.domain.models import EntryKind, Postmortem, TimelineEntry
from incidentbot.emulator import Message, Workspace, mention
from incidentbot.entrypoints.local import LocalStack
from incidentbot.slack import ids


class SimulatedClock:
    """Starts in the past and moves forward as the story does, ending around now."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, minutes: float) -> None:
        with self._lock:
            self._now += timedelta(minutes=minutes)


class Narrator:
    """Prints what people would see in Slack, as plain text."""

    def __init__(self, stack: LocalStack, out: TextIO) -> None:
        self._stack = stack
        self._out = out
        self._shown: set[tuple[str, str]] = set()
        self._edits: dict[tuple[str, str], str] = {}

    def readable(self, text: str) -> str:
        workspace = self._stack.workspace

        def person(match: re.Match[str]) -> str:
            user = workspace.user(match.group(1))
            return f"@{user.name}" if user else "@someone"

        def channel(match: re.Match[str]) -> str:
            found = workspace.channel(match.group(1))
            return f"#{found.name}" if found else "#channel"

        text = re.sub(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>", person, text)
        text = re.sub(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>", channel, text)
        text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2", text)
        return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

    def say(self, line: str) -> None:
        print(line, file=self._out, flush=True)

    def act(self, who: str, where: str, what: str) -> None:
        self.say(f"\n{who} in #{where}: {self.readable(what)}")

    def show_new(self, user: str) -> None:
        """Print messages the channels gained since last time, and ``user``'s private replies."""
        workspace = self._stack.workspace
        for channel in workspace.channels():
            for message in workspace.messages(channel.id):
                self._show(channel.name, message, indent="")
                for reply in workspace.replies(channel.id, message.ts):
                    self._show(channel.name, reply, indent="  ↳ ")
        person = workspace.user_by_name(user)
        assert person is not None
        for ephemeral in workspace.ephemerals(person.id):
            key = ("ephemeral", ephemeral.ts)
            if key not in self._shown:
                self._shown.add(key)
                self.say(f"   (only {user} sees) {self.readable(ephemeral.text)}")

    def _show(self, channel: str, message: Message, indent: str) -> None:
        key = (channel, message.ts)
        text = self._summary(message) if message.blocks else message.text
        if key in self._shown and self._edits.get(key) == text:
            return
        author = self._stack.workspace.user(message.user)
        name = author.name if author else message.user
        label = "updated" if key in self._shown else ""
        self._shown.add(key)
        self._edits[key] = text
        files = [self._stack.workspace.file(f) for f in message.files]
        attached = "".join(f" [file: {f.name}]" for f in files if f is not None)
        prefix = f"   #{channel} {indent}{name}{' (' + label + ')' if label else ''}: "
        self.say(prefix + self.readable(text) + attached)

    def _summary(self, message: Message) -> str:
        parts = []
        for block in message.blocks:
            if block.get("type") == "header":
                parts.append(block["text"]["text"])
            texts = [f["text"] for f in block.get("fields", [])]
            if block.get("type") == "section" and "text" in block:
                texts.append(block["text"]["text"])
            parts.extend(t.replace("*", "").replace("\n", ": ") for t in texts)
        return " | ".join(parts) if parts else message.text


def run_demo(*, out: Path | None = None, stream: TextIO = sys.stdout) -> int:
    folder = (out or Path("demo")).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="incidentbot-demo-"))
    clock = SimulatedClock(datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=2))
    workspace = Workspace(clock=lambda: clock().timestamp())
    try:
        with LocalStack(
            database_url=f"sqlite:///{work / 'demo.db'}",
            workspace=workspace,
            clock=clock,
            timezone="UTC",
            check_templates=True,
        ) as stack:
            _play(stack, clock, Narrator(stack, stream))
            return _write_postmortem(stack, folder, stream)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _play(stack: LocalStack, clock: SimulatedClock, narrator: Narrator) -> None:
    driver = stack.driver
    narrator.say(
        "incidentbot demo: a local Slack workspace with alice (Los Angeles), bob "
        "(Berlin), chandra (Kolkata), dana (UTC) and erik (London)."
    )

    def command(user: str, channel: str, text: str, *, minutes: float = 2) -> None:
        clock.advance(minutes)
        where = stack.workspace.resolve_channel(channel).name
        narrator.act(user, where, f"/incident {text}")
        driver.command(user, channel, text)
        stack.settle()
        narrator.show_new(user)

    def message(user: str, channel: str, text: str, *, minutes: float = 1) -> str:
        clock.advance(minutes)
        narrator.act(user, stack.workspace.resolve_channel(channel).name, text)
        return driver.post_message(user, channel, text)

    command("alice", "#general", "declare Checkout API returning 500s", minutes=0)
    channel = next(c for c in stack.workspace.channels() if c.name.startswith("inc-1-"))
    for person in ("bob", "chandra", "dana"):
        driver.join(person, channel.id)
    narrator.say("\nbob, chandra and dana join the incident channel.")

    command("alice", channel.id, "sev 2")
    command("alice", channel.id, f"role comms {mention('UDANA')}")
    command("alice", channel.id, f"role scribe {mention('UCHANDRA')}")

    berlin = ZoneInfo("Europe/Berlin")
    started = (clock() - timedelta(minutes=19)).astimezone(berlin)
    command(
        "bob",
        channel.id,
        f"note at {started:%H:%M} Checkout error rate alert fired (5xx above 2%)",
    )
    question = next(
        m
        for m in reversed(stack.workspace.messages(channel.id))
        if "Did the impact start" in m.text
    )
    clock.advance(1)
    narrator.say("\nalice clicks “Yes” under that question: the impact began with the alert.")
    driver.block_action("alice", ids.IMPACT_CONFIRM, channel=channel.id, message_ts=question.ts)
    stack.settle()
    narrator.show_new("alice")

    deploy = message(
        "dana",
        channel.id,
        "Deploy checkout-api 2026.11.27-3 went out just before the errors started",
    )
    clock.advance(1)
    narrator.say("\nbob pins dana's message.")
    driver.pin("bob", channel.id, deploy)
    stack.settle()
    narrator.show_new("bob")

    command("alice", channel.id, "status identified Bad config in deploy 2026.11.27-3")
    rollback = message("chandra", channel.id, "Rolling back checkout-api to 2026.11.27-2")
    clock.advance(1)
    narrator.say("\nalice reacts to chandra's message with :pushpin:.")
    driver.react("alice", channel.id, rollback, "pushpin")
    stack.settle()
    narrator.show_new("alice")

    command("chandra", channel.id, "note Rollback finished on 21 pods", minutes=3)
    narrator.say("\nchandra counted wrong, looks the entry up and corrects it.")
    command("chandra", channel.id, "timeline", minutes=1)
    with stack.runtime.uow() as uow:
        typo = uow.session.scalars(
            select(TimelineEntry.number)
            .where(TimelineEntry.kind == EntryKind.NOTE, TimelineEntry.author_id == "UCHANDRA")
            .order_by(TimelineEntry.number.desc())
        ).first()
    command("chandra", channel.id, f"edit {typo} Rollback finished on all 12 pods")
    command(
        "alice",
        channel.id,
        "summary A config change in deploy 2026.11.27-3 made "
        "checkout-api reject payment tokens, returning HTTP 500.",
        minutes=5,
    )
    command(
        "dana",
        channel.id,
        "impact About 18% of checkout attempts failed for 40 minutes; "
        "no payments were double-charged.",
    )
    command(
        "dana",
        channel.id,
        "update Rollback complete; error rate falling. Next update in 30 minutes.",
        minutes=6,
    )
    command("alice", channel.id, "status monitoring", minutes=4)
    mitigated = (clock() - timedelta(minutes=9)).astimezone(berlin)
    command("bob", channel.id, f"mitigated at {mitigated:%H:%M} error rate back under 0.1%")
    command(
        "alice",
        channel.id,
        f"action Add canary analysis to checkout-api deploys {mention('UBOB')} due friday",
    )
    command("alice", channel.id, "action Alert on payment token rejections")
    command("bob", channel.id, "action 1 type prevent")
    command("bob", channel.id, "action 1 link https://tracker.example.com/CHK-142")
    command("alice", channel.id, "action 2 type detect")
    command("alice", channel.id, "resolve Error rate at baseline for 20 minutes", minutes=20)
    command("alice", channel.id, "close", minutes=3)


def _write_postmortem(stack: LocalStack, folder: Path, stream: TextIO) -> int:
    with stack.runtime.uow() as uow:
        postmortem = uow.session.query(Postmortem).order_by(Postmortem.id.desc()).first()
        if postmortem is None:
            print("The demo did not produce a postmortem.", file=stream)
            return 1
        channel_id = postmortem.incident.channel_id
        markdown_path = folder / f"INC-{postmortem.incident.number}-postmortem.md"
        html_path = folder / f"INC-{postmortem.incident.number}-postmortem.html"
        uploaded = [
            f for f in stack.workspace.files_in(channel_id or "") if f.name == markdown_path.name
        ]
        # What Slack received is what we keep: the uploaded file's bytes.
        markdown = uploaded[-1].content.decode() if uploaded and uploaded[-1].content else None
        markdown_path.write_text(markdown or postmortem.markdown, encoding="utf-8")
        html_path.write_text(postmortem.html, encoding="utf-8")
    print(f"\nThe postmortem is in {folder}:", file=stream)
    print(f"  {markdown_path.name} (as uploaded to Slack)", file=stream)
    print(f"  {html_path.name}", file=stream)
    return 0
