"""What happens in Slack after a change is committed: one handler per job kind.

Handlers are safe to run again: each step saves its progress (channel id, summary ts,
announcement ts, uploaded file id) and is skipped when already done, so a retry after a crash
or a Slack failure finishes the work instead of repeating it.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from datetime import timedelta
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from slack_sdk.webhook import WebhookClient
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from incidentbot import services
from incidentbot.domain import links
from incidentbot.domain.channel_names import channel_name, with_suffix
from incidentbot.domain.models import (
    Incident,
    Job,
    JobState,
    Postmortem,
    Severity,
    SlackFact,
    Status,
    TimelineEntry,
)
from incidentbot.infra import jobs
from incidentbot.infra.failpoints import crash_point
from incidentbot.infra.jobs import GiveUp, Handler, QueuedJob, RetryLater
from incidentbot.services.membership import is_member
from incidentbot.services.postmortems import mentioned_people
from incidentbot.services.timeline import fill_captured, read_timeline
from incidentbot.slack import blocks, home, refusals
from incidentbot.slack.deps import Deps
from incidentbot.slack.message_text import message_text
from incidentbot.slack.pacing import Pacer
from incidentbot.slack.refusals import Refusal
from incidentbot.slack.together import together

# A message as posted: Slack's answer to chat.postMessage, or the one an earlier run posted.
Posted = dict[str, Any] | SlackResponse

log = logging.getLogger(__name__)

MAX_NAME_ATTEMPTS = 20
# Timeline entries echoed by one job at most, in as few messages of Slack's advised 4,000
# characters as hold them (blocks.echo_messages).
ECHO_BATCH = 10
# How long an archive due while the incident still has work queued waits before looking again.
ARCHIVE_WAIT = timedelta(minutes=10)
# How long a topic job waits for an earlier one of its incident still running (``_topic_turn``):
# as long as a pacing turn is slept out.
TOPIC_PATIENCE = timedelta(seconds=2)


@contextmanager
def slack_call(timeout: float = 10.0) -> Iterator[None]:
    """Turn Slack's "try later" answers into a retry of the job.

    A timed-out call may still have worked at Slack's end: the retry waits well past the
    original request before looking for what it did (see ``Effects._post``).
    """
    try:
        yield
    except TimeoutError as error:
        raise RetryLater(
            f"Slack timed out: {error}", delay=timedelta(seconds=3 * timeout)
        ) from None
    except URLError as error:
        if isinstance(error.reason, TimeoutError):
            raise RetryLater("Slack timed out", delay=timedelta(seconds=3 * timeout)) from None
        raise
    except SlackApiError as error:
        code = error.response.get("error")
        status = error.response.status_code
        if code == "ratelimited" or status == 429:
            # Given back, not slept out here (the worker holds a lease) and not counted: a
            # rate limit says nothing about whether the work can succeed.
            delay = timedelta(seconds=_retry_after(error.response.headers))
            raise RetryLater(f"rate limited: {code}", delay=delay, counts=False) from None
        if refusals.is_temporary(error):
            raise RetryLater(f"Slack failed: {code or status}") from None
        raise


# What Slack says of an announcement channel that is misconfigured rather than refused.
CHANNEL_UNUSABLE = {
    "channel_not_found",
    "is_archived",
    "method_not_supported_for_channel_type",
    "not_in_channel",
}

# The conversation or message is gone (archived or deleted): what it would have shown is kept in
# the database, so retrying would only hold up the incident's later work.
GONE = {"is_archived", "channel_not_found", "message_not_found", "cant_update_message"}


@contextmanager
def unless_gone(what: str) -> Iterator[None]:
    try:
        yield
    except SlackApiError as error:
        if error.response.get("error") not in GONE:
            raise
        log.warning("skipped %s: Slack said %s", what, error.response.get("error"))


def _describe(error: Exception) -> str:
    """A short, secret-free description of what went wrong, fit to show a person."""
    if isinstance(error, SlackApiError):
        return f"Slack said {error.response.get('error') or error.response.status_code}"
    if isinstance(error, RetryLater):
        return str(error)
    return f"{type(error).__name__}"


def _method_of(error: SlackApiError) -> str:
    """The Web API method a refusal answered ("conversations.invite"), from its URL."""
    url = getattr(error.response, "api_url", "") or ""
    return url.rstrip("/").rsplit("/", 1)[-1] or "unknown"


def _retry_after(headers: dict | None) -> int:
    # Slack sends Retry-After with every 429; a "ratelimited" body without one retries soon.
    value = {k.lower(): v for k, v in (headers or {}).items()}.get("retry-after", "1")
    if isinstance(value, list):
        value = value[0] if value else "1"
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


class Effects:
    def __init__(self, *, deps: Deps, client: WebClient) -> None:
        self._deps = deps
        self._client = client
        self._settings = deps.settings
        self._channel_ids: dict[str, str] = {}
        self._pacer = Pacer(
            uow_factory=deps.uow_factory,
            enabled=self._settings.slack_pacing,
            scale=self._settings.slack_pace_scale,
        )
        # For a job's Slack calls that need not wait for each other (a new incident's
        # announcement beside its summary): threads named as the job's own.
        self._beside = ThreadPoolExecutor(
            max_workers=8, thread_name_prefix="incidentbot-job-beside"
        )

    def handlers(self) -> dict[str, Handler]:
        return {kind: self.ending_on_refusal(handler) for kind, handler in self._handlers().items()}

    def ending_on_refusal(self, handler: Handler) -> Handler:
        """A refusal Slack will repeat ends the job at once (logged, counted), rather than
        eight tries over two minutes that hold up the incident's later work. Steps a person
        is waiting on catch their refusals themselves and tell them."""

        @functools.wraps(handler)
        def run(job: QueuedJob) -> None:
            try:
                handler(job)
            except SlackApiError as error:
                if not refusals.is_final(error):
                    raise
                refusal = self._refused(error, step=f"run {job.kind}")
                raise GiveUp(refusal.log_line()) from None

        return run

    def _handlers(self) -> dict[str, Handler]:
        return {
            jobs.OPEN_CHANNEL: self.open_channel,
            jobs.REFRESH_SUMMARY: self.refresh_summary,
            jobs.ECHO_ENTRY: self.echo_entry,
            jobs.ANNOUNCE_UPDATE: self.announce_update,
            jobs.INVITE: self.invite,
            jobs.GENERATE_POSTMORTEM: self.generate_postmortem,
            jobs.UPLOAD_POSTMORTEM: self.upload_postmortem,
            jobs.CAPTURE_DETAILS: self.capture_details,
            jobs.BRIEF_NEWCOMER: self.brief_newcomer,
            jobs.ASK_IMPACT_START: self.ask_impact_start,
            jobs.SETTLE_PROMPT: self.settle_prompt,
            jobs.TELL_PRIVATELY: self.tell_privately,
            jobs.PUBLISH_HOME: self.publish_home,
            jobs.ARCHIVE_CHANNEL: self.archive_channel,
            jobs.SET_TOPIC: self.set_topic,
            jobs.ADD_BOOKMARK: self.add_bookmark,
        }

    def _incident(self, incident_id: object) -> Incident:
        """A detached copy with its roles loaded, for building messages outside a transaction.
        ``incident_id`` as a job has it: its column (int or None) or its payload's (any JSON)."""
        with self._deps.uow_factory(read_only=True) as uow:
            incident = uow.session.scalar(
                select(Incident)
                .where(Incident.id == incident_id)
                .options(selectinload(Incident.roles))
            )
            if incident is None:
                raise LookupError(f"incident {incident_id} does not exist")
            return incident

    def _page_url(self, incident: Incident | int, path: str = "") -> str:
        """A link to an incident's page for its channel: signed for that incident, since
        everyone in the channel sees the same message."""
        number = incident if isinstance(incident, int) else incident.number
        token = links.issue_incident_token(secret=self._settings.link_secret, number=number)
        separator = "&" if "?" in path else "?"
        return f"{self._settings.base_url}/incidents/{number}{path}{separator}token={token}"

    def _pace(
        self, method: str, *, channel: str | None = None, patience: timedelta | None = None
    ) -> None:
        """Wait for ``method``'s turn in Slack's tiers (in ``channel``'s one message a second
        when given), or give the job back until it comes (``slack/pacing.py``)."""
        self._pacer.wait_turn(method, channel=channel, patience=patience)

    def _save(self, incident_id: int, **values: object) -> None:
        with self._deps.uow_factory() as uow:
            incident = uow.session.get(Incident, incident_id)
            assert incident is not None
            for name, value in values.items():
                setattr(incident, name, value)
            uow.commit()

    # -- declare ----------------------------------------------------------------------------

    def open_channel(self, job: QueuedJob) -> None:
        incident = self._incident(job.incident_id)
        reply_to = job.payload.get("reply_to")
        fresh = incident.channel_id is None
        if incident.channel_id is None:
            try:
                channel = self._create_channel(incident, retrying=job.attempt > 1)
            except SlackApiError as error:
                if not refusals.is_final(error):
                    self._keep_trying(job, incident, error)
                    raise
                refusal = self._refused(error, step="create the incident's channel")
                if isinstance(reply_to, str) and reply_to:
                    self._reply(
                        reply_to,
                        f":warning: INC-{incident.number} is recorded, but {refusal.sentence()} "
                        "Typing the same `/incident declare` again tries again.",
                    )
                raise GiveUp(refusal.log_line()) from None
            except Exception as error:
                self._keep_trying(job, incident, error)
                raise
            crash_point("after:conversations.create")
            self._save(incident.id, channel_id=channel["id"], channel_name=channel["name"])
            incident.channel_id, incident.channel_name = channel["id"], channel["name"]
        invitees = [incident.declared_by, incident.holder("lead")]
        if incident.holder("lead") is None:
            # Declared for an alert, by the bot itself, which is in the channel it created.
            invitees = [user_id for user_id in invitees if user_id != self._bot_user_id()]
        # A refusal of one step is told, not retried, and never stops the steps that do not
        # depend on it: a guest who may not join still gets a channel with a summary.
        invited = [
            invite_refusal
            for user_id in dict.fromkeys(invitees)
            if user_id
            and (fresh or not self._counted_in(incident.id, user_id))
            and (invite_refusal := self._invite(incident.channel_id, user_id)) is not None
        ]
        # The announcement needs only the channel: it goes out beside the summary and its pin,
        # four round trips to a usable incident instead of five. (The invitations go first: a
        # crash after the summary must not leave the declarer out of the channel on restart.)
        announce = (
            functools.partial(self._announce, job, incident)
            if incident.announcement_ts is None
            else lambda: None
        )
        summarised, problem = together(
            self._beside, [functools.partial(self._summary_and_pin, job, incident), announce]
        )
        problems = invited + summarised
        if isinstance(reply_to, str) and reply_to:
            self._reply(reply_to, blocks.channel_ready(incident, problem=problem, refused=problems))
        elif problems:
            # Nobody typed this one (an alert declared it): the channel is where people look.
            self._post(
                job,
                "refusals",
                incident.channel_id,
                text="\n".join(f":warning: {refusal.sentence()}" for refusal in problems),
            )
        # Last: the topic and bookmark wait for their turns in no incident's queue. Only a run
        # after a counted failure (a crash, say, after queueing them) may find them queued
        # already; those then ask Slack what is there before writing.
        self._decorate(incident, fresh=job.counted_attempts == 1)

    def _counted_in(self, incident_id: int, user_id: str) -> bool:
        with self._deps.uow_factory(read_only=True) as uow:
            return is_member(uow=uow, incident_id=incident_id, user_id=user_id)

    def _decorate(self, incident: Incident, *, fresh: bool, bookmark: bool = True) -> None:
        """Queue the channel's topic (and bookmark): see ``jobs.SET_TOPIC``."""
        with self._deps.uow_factory() as uow:
            uow.enqueue(jobs.SET_TOPIC, incident_id=incident.id, fresh=fresh)
            if bookmark:
                uow.enqueue(jobs.ADD_BOOKMARK, incident_id=incident.id, fresh=fresh)
            uow.commit()

    def _keep_trying(self, job: QueuedJob, incident: Incident, error: Exception) -> None:
        """Tell the declarer, once, that the channel is late and being retried."""
        reply_to = job.payload.get("reply_to")
        if job.attempt == 1 and isinstance(reply_to, str) and reply_to:
            self._reply(
                reply_to,
                f":warning: INC-{incident.number} is recorded, but Slack has not created "
                f"its channel yet ({_describe(error)}). I'll keep trying in the background;"
                " typing the same `/incident declare` again retries now.",
            )

    def _summary_and_pin(self, job: QueuedJob, incident: Incident) -> list[refusals.Refusal]:
        """Post the summary and pin it, unless done already; the steps Slack refused."""
        found: list[refusals.Refusal] = []
        assert incident.channel_id is not None
        if incident.summary_ts is None:
            # A summary is usable once pinned: the pin's turn is taken before the summary goes
            # out, so that a storm gives the job back before posting rather than between the two.
            self._pace("pins.add")
            try:
                posted = self._post(
                    job,
                    "summary",
                    incident.channel_id,
                    text=blocks.summary_text(incident),
                    blocks=self._summary_blocks(incident),
                    unfurl_links=False,
                )
            except SlackApiError as error:
                if not refusals.is_final(error):
                    raise
                found.append(self._refused(error, step="post the incident's summary"))
            else:
                crash_point("after:summary")
                try:
                    self._pin(incident.channel_id, posted["ts"])
                except SlackApiError as error:
                    if not refusals.is_final(error):
                        raise
                    found.append(self._refused(error, step="pin the summary"))
                # Saved once pinned: a run given back at the pin (a 429) finds its post again
                # and pins it, where a saved summary would be skipped, unpinned.
                self._save(incident.id, summary_ts=posted["ts"])
                incident.summary_ts = posted["ts"]
        return found

    def _announce(self, job: QueuedJob, incident: Incident) -> str | None:
        """Announce the incident; a misconfigured announcement channel is reported, not retried
        (retrying would hold up every later step of the incident for nothing).

        A private incident is announced only in the private announcement channel, if one is set.
        """
        wanted = (
            self._settings.private_announce_channel
            if incident.private
            else self._settings.announce_channel
        )
        if wanted is None:
            return None
        try:
            channel_id = self._channel_id(wanted)
            text, message = blocks.announcement(
                incident, declared_by=incident.declared_by, zone=self._settings.timezone
            )
            self._pace("chat.postMessage", channel=channel_id)
            posted = self._post(job, "announcement", channel_id, text=text, blocks=message)
            crash_point("after:announcement")
        except (LookupError, SlackApiError) as error:
            if isinstance(error, SlackApiError) and not refusals.is_final(error):
                raise
            if wanted.startswith("#") and isinstance(error, SlackApiError):
                self._forget_channel(wanted)
            setting = "INCIDENTBOT_ANNOUNCE_CHANNEL" + (
                " and INCIDENTBOT_PRIVATE_ANNOUNCE_CHANNEL" if incident.private else ""
            )
            if (
                isinstance(error, SlackApiError)
                and error.response.get("error") not in CHANNEL_UNUSABLE
            ):
                refusal = self._refused(error, step=f"announce it in {wanted}")
                problem = f"{refusal.what}. What you can do: {refusal.remedy}; or check {setting}"
            else:
                problem = (
                    f"the announcement channel {wanted} cannot be used ({_describe(error)}); "
                    f"check {setting}"
                )
            log.error("INC-%s was not announced: %s", incident.number, problem)
            return problem
        self._save(incident.id, announcement_channel_id=channel_id, announcement_ts=posted["ts"])
        return None

    def _create_channel(self, incident: Incident, *, retrying: bool) -> dict:
        base = channel_name(
            prefix=self._settings.channel_prefix, number=incident.number, title=incident.title
        )
        for attempt in range(1, MAX_NAME_ATTEMPTS + 1):
            name = base if attempt == 1 else with_suffix(base, attempt)
            self._pace("conversations.create")
            try:
                with slack_call(self._settings.slack_timeout):
                    created: dict[str, Any] = self._client.conversations_create(
                        name=name, is_private=incident.private
                    )["channel"]
                    return created
            except SlackApiError as error:
                if error.response.get("error") != "name_taken":
                    raise
                if retrying:
                    # An earlier attempt may have created it and died before saving its id.
                    adopted = self._adoptable_channel(name)
                    if adopted is not None:
                        return adopted
        raise RetryLater(
            f"no free channel name after {MAX_NAME_ATTEMPTS} tries", delay=timedelta(minutes=1)
        )

    def _adoptable_channel(self, name: str) -> dict | None:
        """The channel called ``name`` if this bot created it and no incident owns it yet."""
        try:
            channel_id = self._find_channel(name)
            with slack_call(self._settings.slack_timeout):
                channel = self._client.conversations_info(channel=channel_id)["channel"]
        except (LookupError, SlackApiError):
            return None
        if channel.get("creator") != self._bot_user_id():
            return None
        with self._deps.uow_factory(read_only=True) as uow:
            owned = uow.session.scalar(select(Incident.id).where(Incident.channel_id == channel_id))
        return None if owned is not None else channel

    def _bot_user_id(self) -> str:
        with slack_call(self._settings.slack_timeout):
            return self._deps.directory.bot_user_id()

    def _invite(self, channel_id: str, user_id: str) -> Refusal | None:
        """Add someone to an incident's channel and count them in; what Slack refuses for good
        (a guest, someone from another organisation) is returned to tell whoever asked."""
        self._pace("conversations.invite")
        try:
            with slack_call(self._settings.slack_timeout):
                self._client.conversations_invite(channel=channel_id, users=user_id)
        except SlackApiError as error:
            code = error.response.get("error")
            if code in GONE or not refusals.is_final(error):
                raise
            if code not in {"already_in_channel", "cant_invite_self"}:
                return self._refused(
                    error, step=f"add <@{user_id}> to the channel", who=f"<@{user_id}>"
                )
        with self._deps.uow_factory() as uow:
            incident_id = uow.session.scalar(
                select(Incident.id).where(Incident.channel_id == channel_id)
            )
            if incident_id is not None:
                services.add_member(uow=uow, incident_id=incident_id, user_id=user_id)
                uow.commit()
        return None

    def _refused(self, error: SlackApiError, *, step: str, who: str | None = None) -> Refusal:
        """Log and count a step Slack refused for good; the refusal, to tell a person."""
        refusal = Refusal.of(error, step=step, who=who)
        log.warning("%s", refusal.log_line())
        if self._deps.telemetry is not None:
            self._deps.telemetry.observe_refusal(_method_of(error), error=refusal.code)
        return refusal

    def _pin(self, channel_id: str, ts: str) -> None:
        try:
            with slack_call(self._settings.slack_timeout):
                self._client.pins_add(channel=channel_id, timestamp=ts)
        except SlackApiError as error:
            if error.response.get("error") != "already_pinned":
                raise

    def _channel_id(self, wanted: str) -> str:
        """A configured channel as an ID.

        An ID is used as it is: the way to configure a large workspace. A ``#name`` is found
        once by paging ``conversations.list`` (Tier 2, 200 channels a page: minutes on an
        Enterprise Grid) and kept in ``slack_facts`` for every replica and restart after.
        """
        if not wanted.startswith("#"):
            return wanted
        if wanted in self._channel_ids:
            return self._channel_ids[wanted]
        key = f"channel:{wanted}"
        with self._deps.uow_factory(read_only=True) as uow:
            known = uow.session.get(SlackFact, key)
            channel_id = known.value if known is not None else None
        if channel_id is None:
            channel_id = self._find_channel(wanted[1:])
            with self._deps.uow_factory() as uow:
                # Two replicas may both have looked: either answer is the same channel.
                uow.session.merge(SlackFact(key=key, value=channel_id, learned_at=uow.now()))
                with suppress(IntegrityError):
                    uow.commit()
        self._channel_ids[wanted] = channel_id
        return channel_id

    def _forget_channel(self, wanted: str) -> None:
        """A ``#name`` whose kept ID Slack no longer takes (deleted, archived, renamed) is
        looked up afresh the next time."""
        self._channel_ids.pop(wanted, None)
        with self._deps.uow_factory() as uow:
            uow.session.execute(delete(SlackFact).where(SlackFact.key == f"channel:{wanted}"))
            uow.commit()

    def _find_channel(self, name: str) -> str:
        cursor = None
        while True:
            self._pace("conversations.list")
            with slack_call(self._settings.slack_timeout):
                page = self._client.conversations_list(
                    types="public_channel,private_channel",
                    exclude_archived=True,
                    limit=200,
                    cursor=cursor,
                )
            for channel in page["channels"]:
                if channel["name"] == name:
                    found: str = channel["id"]
                    return found
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                raise LookupError(f"no channel named #{name}")

    def _post(self, job: QueuedJob, step: str, channel_id: str, **message: Any) -> Posted:
        """Post a job's message once, even if the job is retried after posting it.

        Slack has no idempotency keys, so each post carries message metadata naming its job and
        step; a retried job looks for its own earlier post before posting again.
        """
        marker = {"event_type": "incidentbot_post", "event_payload": {"job": job.id, "step": step}}
        if job.attempt > 1:
            earlier = self._find_post(channel_id, marker, thread_ts=message.get("thread_ts"))
            if earlier is not None:
                return earlier
        return self._post_joining(channel_id, metadata=marker, **message)

    def _find_post(self, channel_id: str, marker: dict, *, thread_ts: object) -> dict | None:
        try:
            with slack_call(self._settings.slack_timeout):
                if isinstance(thread_ts, str):
                    page = self._client.conversations_replies(
                        channel=channel_id, ts=thread_ts, limit=200, include_all_metadata=True
                    )
                else:
                    page = self._client.conversations_history(
                        channel=channel_id, limit=200, include_all_metadata=True
                    )
        except SlackApiError as error:
            if error.response.get("error") in {"not_in_channel", "channel_not_found"}:
                return None
            raise
        messages: list[dict[str, Any]] = page.get("messages", [])
        for message in messages:
            if message.get("metadata") == marker:
                return message
        return None

    def _post_joining(self, channel_id: str, **message: Any) -> Posted:
        """Post, joining a public channel first if the bot is not in it yet."""
        try:
            with slack_call(self._settings.slack_timeout):
                return self._client.chat_postMessage(channel=channel_id, **message)
        except SlackApiError as error:
            if error.response.get("error") != "not_in_channel":
                raise
        with slack_call(self._settings.slack_timeout):
            self._client.conversations_join(channel=channel_id)
            return self._client.chat_postMessage(channel=channel_id, **message)

    def _reply(self, response_url: str, text: str) -> None:
        """Tell the person who typed the command, privately; it is fine if the URL expired."""
        try:
            WebhookClient(response_url, timeout=10).send(text=text, response_type="ephemeral")
        except Exception:
            log.warning("could not reply through the command's response_url", exc_info=True)

    # -- keeping the channel current ----------------------------------------------------------

    def refresh_summary(self, job: QueuedJob) -> None:
        with unless_gone("updating the summary"):
            incident = self._incident(job.incident_id)
            if incident.channel_id is None or incident.summary_ts is None:
                return  # open_channel posts the summary as it is then
            with slack_call(self._settings.slack_timeout):
                self._client.chat_update(
                    channel=incident.channel_id,
                    ts=incident.summary_ts,
                    text=blocks.summary_text(incident),
                    blocks=self._summary_blocks(incident),
                )
            self._decorate(incident, fresh=False, bookmark=False)

    def _summary_blocks(self, incident: Incident) -> list[dict]:
        with self._deps.uow_factory(read_only=True) as uow:
            latest = services.latest_update(uow=uow, incident_id=incident.id)
        return blocks.summary_blocks(
            incident,
            page_url=self._page_url(incident),
            zone=self._settings.timezone,
            latest_update=latest,
        )

    def _entry(self, entry_id: object) -> TimelineEntry | None:
        with self._deps.uow_factory(read_only=True) as uow:
            return uow.session.get(TimelineEntry, entry_id)

    def echo_entry(self, job: QueuedJob) -> None:
        """Echo a new timeline entry into the channel, with any others added since.

        Slack posts about one message per second per channel; when people add entries faster
        than that, one message carries every entry still waiting, in order, or as many
        messages of at most 4,000 characters as they need, each posted once however often
        the job is retried (a step of its own: "echo", "echo-2", ...).
        """
        with self._deps.uow_factory() as uow:
            payloads = jobs.gather(uow.session, job, limit=ECHO_BATCH, now=uow.now())
            uow.commit()
        entry_ids = [payload["entry_id"] for payload in payloads]
        with unless_gone("echoing a timeline entry"):
            with self._deps.uow_factory(read_only=True) as uow:
                where = uow.session.execute(
                    select(Incident.channel_id, Incident.number).where(
                        Incident.id == job.incident_id
                    )
                ).first()
                found = uow.session.scalars(
                    select(TimelineEntry).where(TimelineEntry.id.in_(entry_ids))
                ).all()
            by_id = {entry.id: entry for entry in found}
            entries = [by_id[i] for i in entry_ids if i in by_id]
            if not entries or where is None or where.channel_id is None:
                return
            channel_id, number = where.channel_id, where.number
            zone = self._settings.timezone
            messages = blocks.echo_messages(
                [blocks.entry_message(entry, zone=zone) for entry in entries],
                page_url=self._page_url(number),
            )
            for part, text in enumerate(messages, start=1):
                step = "echo" if part == 1 else f"echo-{part}"
                self._post(job, step, channel_id, text=text, unfurl_links=False)

    def announce_update(self, job: QueuedJob) -> None:
        with unless_gone("announcing an update"):
            incident = self._incident(job.incident_id)
            entry = self._entry(job.payload["entry_id"])
            if entry is None or incident.private or not incident.announcement_ts:
                return
            assert incident.announcement_channel_id is not None
            self._pace("chat.postMessage", channel=incident.announcement_channel_id)
            self._post(
                job,
                "update",
                incident.announcement_channel_id,
                text=blocks.update_announcement(incident, entry),
                thread_ts=incident.announcement_ts,
                # Only a live SEV1 is worth everyone's attention; the past pages nobody.
                reply_broadcast=incident.severity == Severity.SEV1 and not incident.after_the_fact,
                unfurl_links=False,
            )

    def invite(self, job: QueuedJob) -> None:
        """Bring someone handed a role into the channel; if Slack will not have them, whoever
        handed it over is told (the role stays theirs: the record does not depend on Slack)."""
        with unless_gone("inviting someone"):
            incident = self._incident(job.incident_id)
            if incident.channel_id is None:
                return
            user_id = str(job.payload["user_id"])
            refusal = self._invite(incident.channel_id, user_id)
            if refusal is None:
                return
            role = job.payload.get("role")
            text = f":warning: {refusal.sentence()}" + (
                f" <@{user_id}> is still the {role} of INC-{incident.number}." if role else ""
            )
            asked_by = job.payload.get("requested_by")
            if isinstance(asked_by, str) and asked_by:
                self._tell(incident.channel_id, asked_by, text)
            else:
                self._post(job, "refusal", incident.channel_id, text=text)

    def ask_impact_start(self, job: QueuedJob) -> None:
        with unless_gone("asking about the impact start"):
            incident = self._incident(job.incident_id)
            entry = self._entry(job.payload["entry_id"])
            if entry is None or incident.channel_id is None:
                return
            if entry.occurred_at >= incident.impact_started_at:
                return  # someone already moved the impact start this far back
            text, prompt = blocks.impact_start_prompt(incident, entry, zone=self._settings.timezone)
            self._post(job, "question", incident.channel_id, text=text, blocks=prompt)

    def settle_prompt(self, job: QueuedJob) -> None:
        """Replace a question's buttons with its answer, so nobody answers it twice."""
        with unless_gone("settling a question"):
            text = str(job.payload["text"])
            with slack_call(self._settings.slack_timeout):
                self._client.chat_update(
                    channel=str(job.payload["channel_id"]),
                    ts=str(job.payload["ts"]),
                    text=text,
                    blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
                )

    def brief_newcomer(self, job: QueuedJob) -> None:
        incident = self._incident(job.incident_id)
        if incident.channel_id is None:
            return
        summary = self._summary_blocks(incident)
        intro = {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "Welcome to the incident. Here is where things stand; "
                "`/incident help` lists what you can do here.",
            },
        }
        try:
            with slack_call(self._settings.slack_timeout):
                self._client.chat_postEphemeral(
                    channel=incident.channel_id,
                    user=str(job.payload["user_id"]),
                    text=blocks.summary_text(incident),
                    blocks=[intro, *summary],
                )
        except SlackApiError as error:
            # They may have left again already; a briefing is not worth retrying.
            if error.response.get("error") != "user_not_in_channel":
                raise

    def capture_details(self, job: QueuedJob) -> None:
        channel_id, ts = str(job.payload["channel_id"]), str(job.payload["ts"])
        message = self._fetch_message(channel_id, ts) if job.payload.get("fetch_text") else None
        with slack_call(self._settings.slack_timeout):
            permalink = self._client.chat_getPermalink(channel=channel_id, message_ts=ts)[
                "permalink"
            ]
        with self._deps.uow_factory() as uow:
            entry = fill_captured(
                uow=uow,
                # A payload value is any JSON to mypy (object); this one was queued as an int.
                entry_id=int(job.payload["entry_id"]),  # type: ignore[call-overload]
                text=message_text(message) if message is not None else None,
                message_author_id=message.get("user") if message is not None else None,
                permalink=permalink,
            )
            uow.commit()
        if entry is not None:
            incident = self._incident(job.incident_id)
            self._post(
                job,
                "captured",
                channel_id,
                text=f":pushpin: Added to the INC-{incident.number} timeline.",
                thread_ts=ts,
            )

    def _fetch_message(self, channel_id: str, ts: str) -> dict:
        with slack_call(self._settings.slack_timeout):
            history = self._client.conversations_history(
                channel=channel_id, latest=ts, oldest=ts, inclusive=True, limit=1
            )
        history_messages: list[dict[str, Any]] = history.get("messages", [])
        for message in history_messages:
            if message.get("ts") == ts:
                return message
        with slack_call(self._settings.slack_timeout):
            replies = self._client.conversations_replies(channel=channel_id, ts=ts, limit=100)
        for message in replies.get("messages", []):
            if message.get("ts") == ts:
                return message
        return {"text": "(message no longer available)"}

    # -- the channel's topic, bookmark and archive --------------------------------------------

    def set_topic(self, job: QueuedJob) -> None:
        """Make a channel's topic name its incident's severity, status and lead. ``fresh``: the
        channel is new and has no topic yet, so Slack is not asked (unless an earlier run may
        have set it: one that failed, rather than waited for its turn)."""
        if not self._topic_turn(job):
            return
        incident = self._incident(job.payload["incident_id"])
        if incident.channel_id is None:
            return
        fresh = bool(job.payload.get("fresh")) and job.counted_attempts == 1
        with unless_gone("setting the channel topic"):
            self._sync_topic(incident, current="" if fresh else None)

    def _topic_turn(self, job: QueuedJob) -> bool:
        """Whether this topic job should go on (False: a later one will, with newer facts).

        Topic jobs wait in no incident's line, so two could otherwise read the same old topic
        at once and both set the new one: Slack would announce the "change" twice. An earlier
        one still running is waited for as a pacing turn is, up to ``TOPIC_PATIENCE``, then
        the job is given back uncounted.
        """
        deadline = time.monotonic() + TOPIC_PATIENCE.total_seconds()
        while True:
            with self._deps.uow_factory(read_only=True) as uow:
                place = jobs.turn(uow.session, job, key="incident_id", now=uow.now())
            if place is not jobs.Turn.WAIT:
                return place is jobs.Turn.GO
            if time.monotonic() >= deadline:
                raise RetryLater(
                    "an earlier topic job of this incident is still running",
                    delay=TOPIC_PATIENCE,
                    counts=False,
                )
            time.sleep(0.05)

    def add_bookmark(self, job: QueuedJob) -> None:
        """Bookmark the incident's web page in its channel.

        A convenience: what Slack refuses for good (a missing scope, say) is logged and
        skipped. A new channel (``fresh``) has no bookmark, so Slack is asked what is there only
        after a failed run.
        """
        incident = self._incident(job.payload["incident_id"])
        if incident.channel_id is None:
            return
        fresh = bool(job.payload.get("fresh")) and job.counted_attempts == 1
        title = f"{blocks.incident_label(incident)} page"
        try:
            if not fresh and self._has_bookmark(incident.channel_id, title):
                return
            # A decoration never holds a worker for its turn: given back, it waits queued.
            self._pace("bookmarks.add", patience=timedelta(0))
            with slack_call(self._settings.slack_timeout):
                self._client.bookmarks_add(
                    channel_id=incident.channel_id,
                    title=title,
                    type="link",
                    link=self._page_url(incident),
                )
        except SlackApiError as error:
            log.warning(
                "did not bookmark INC-%s's page: Slack said %s",
                incident.number,
                error.response.get("error"),
            )

    def _has_bookmark(self, channel_id: str, title: str) -> bool:
        with slack_call(self._settings.slack_timeout):
            listed = self._client.bookmarks_list(channel_id=channel_id)
        return any(bookmark.get("title") == title for bookmark in listed.get("bookmarks") or [])

    def _sync_topic(self, incident: Incident, *, current: str | None = None) -> None:
        """Make the channel's topic name the incident's severity, status and lead.

        Slack announces every topic change in the channel, so it is set only when it would
        change; ``current`` is the topic if known, else Slack is asked. That also makes a burst
        of changes set it once: each job reads the incident as it is when it runs.
        """
        assert incident.channel_id is not None
        wanted = blocks.channel_topic(incident)
        try:
            if current is None:
                with slack_call(self._settings.slack_timeout):
                    channel = self._client.conversations_info(channel=incident.channel_id)
                current = ((channel.get("channel") or {}).get("topic") or {}).get("value", "")
            if current == wanted:
                return
            # A decoration never holds a worker for its turn: given back, it waits queued.
            self._pace("conversations.setTopic", patience=timedelta(0))
            with slack_call(self._settings.slack_timeout):
                self._client.conversations_setTopic(channel=incident.channel_id, topic=wanted)
        except SlackApiError as error:
            if error.response.get("error") in GONE:
                raise
            log.warning(
                "did not set INC-%s's channel topic: Slack said %s",
                incident.number,
                error.response.get("error"),
            )

    def archive_channel(self, job: QueuedJob) -> None:
        """Archive a closed incident's channel, unless it was reopened since it was closed."""
        incident = self._incident(job.payload["incident_id"])
        if (
            incident.status != Status.CLOSED
            or incident.reopened_count != job.payload.get("reopened_count")
            or incident.closed_at is None
            or incident.channel_id is None
        ):
            return  # reopened meanwhile (a later close queued an archive of its own)
        if self._has_queued_work(incident.id):
            # Say, the postmortem is still being uploaded: Slack takes nothing into an archived
            # channel, so archiving waits for the incident's own work to be done.
            raise RetryLater("the incident's queued work is not done", delay=ARCHIVE_WAIT)
        now = self._deps.uow_factory().now()  # the runtime's clock; no session is opened
        closed_days = max(1, (now - incident.closed_at).days)
        channel_id = incident.channel_id
        with unless_gone("archiving the channel"):
            try:
                self._post(
                    job,
                    "archive",
                    channel_id,
                    text=blocks.archive_notice(
                        incident, closed_days=closed_days, page_url=self._page_url(incident)
                    ),
                    unfurl_links=False,
                )
                self._pace("conversations.archive")
                with slack_call(self._settings.slack_timeout):
                    self._client.conversations_archive(channel=channel_id)
                log.info("archived INC-%s's channel %s", incident.number, channel_id)
            except SlackApiError as error:
                code = error.response.get("error")
                if code in GONE:
                    raise
                if code != "already_archived":
                    # Slack will not change its mind on a retry (the bot was removed from a
                    # private channel, a scope is missing): say so and leave the channel be.
                    log.warning(
                        "did not archive INC-%s's channel: Slack said %s", incident.number, code
                    )

    def _has_queued_work(self, incident_id: int) -> bool:
        with self._deps.uow_factory(read_only=True) as uow:
            return (
                uow.session.scalar(
                    select(Job.id)
                    .where(
                        Job.incident_id == incident_id,
                        Job.state.in_([JobState.PENDING, JobState.RUNNING]),
                    )
                    .limit(1)
                )
                is not None
            )

    # -- the Home tab and private answers -------------------------------------------------------

    def publish_home(self, job: QueuedJob) -> None:
        """Publish one person's Home tab as things stand now."""
        user_id = str(job.payload["user_id"])
        token = links.issue_token(secret=self._settings.link_secret, user_id=user_id)
        with self._deps.uow_factory(read_only=True) as uow:
            view = home.home_view(
                services.open_incidents(uow=uow, viewer=user_id),
                now=uow.now(),
                zone=self._settings.timezone,
                base_url=self._settings.base_url,
                token=token,
            )
        with slack_call(self._settings.slack_timeout):
            self._client.views_publish(user_id=user_id, view=view)

    def tell_privately(self, job: QueuedJob) -> None:
        """An ephemeral message to one person in a channel, e.g. what a form they sent did."""
        self._tell(
            str(job.payload["channel_id"]), str(job.payload["user_id"]), str(job.payload["text"])
        )

    def _tell(self, channel_id: str, user_id: str, text: str) -> None:
        try:
            with slack_call(self._settings.slack_timeout):
                self._client.chat_postEphemeral(channel=channel_id, user=user_id, text=text)
        except SlackApiError as error:
            # They left, or the channel is gone: what they did is recorded all the same.
            if error.response.get("error") not in {"user_not_in_channel", *GONE}:
                raise

    # -- postmortem ---------------------------------------------------------------------------

    def generate_postmortem(self, job: QueuedJob) -> None:
        with self._deps.uow_factory(read_only=True) as uow:
            incident = uow.session.get(Incident, job.incident_id)
            assert incident is not None
            # As rows: this pass only gathers names, and a long timeline is slow to load as objects.
            timeline = read_timeline(uow=uow, incident=incident)
            people = mentioned_people(incident, timeline=timeline)
        with slack_call(self._settings.slack_timeout):
            self._deps.directory.ensure(people, client=self._client)
        with self._deps.uow_factory() as uow:
            incident = uow.session.get(Incident, job.incident_id)
            assert incident is not None
            requested_by = job.payload.get("requested_by")
            template = services.template_for(
                incident,
                severity_templates=self._settings.severity_templates,
                available=self._deps.renderer.available_templates(),
            )
            generated = services.generate_postmortem(
                uow=uow,
                incident=incident,
                renderer=self._deps.renderer,
                generated_by=requested_by if isinstance(requested_by, str) else None,
                trigger=str(job.payload.get("trigger", "command")),
                template=template,
                rules=self._deps.review_rules(),
            )
            uow.commit()
            number, version = incident.number, generated.postmortem.version
            flags = len(generated.review)
        reply_to = job.payload.get("reply_to")
        if isinstance(reply_to, str) and reply_to:
            review = (
                f"its Review notes list {flags} phrase{'s' if flags != 1 else ''} of blame or "
                "hindsight language to reword"
                if flags
                else "no blame or hindsight language was found"
            )
            self._reply(
                reply_to,
                f"INC-{number} postmortem version {version} ({template} template) is ready and "
                f"being posted in the channel; {review}.",
            )

    def upload_postmortem(self, job: QueuedJob) -> None:
        with self._deps.uow_factory(read_only=True) as uow:
            postmortem = uow.session.get(Postmortem, job.payload["postmortem_id"])
            assert postmortem is not None
            incident = postmortem.incident
            if postmortem.slack_file_id or incident.channel_id is None:
                return
            number, version, markdown = incident.number, postmortem.version, postmortem.markdown
            channel_id = incident.channel_id
        page = self._page_url(number, f"/postmortem?version={version}")
        filename = f"INC-{number}-postmortem.md"
        title = f"INC-{number} postmortem, version {version}"
        # A retry after a crash finds the upload it already made (titles name the version).
        file_id = self._find_upload(channel_id, filename, title) if job.attempt > 1 else None
        if file_id is None:
            with slack_call(self._settings.slack_timeout):
                uploaded = self._client.files_upload_v2(
                    channel=channel_id,
                    filename=filename,
                    title=title,
                    content=markdown,
                    initial_comment=(
                        f":page_facing_up: Postmortem draft for INC-{number}, version {version}. "
                        f"Review it here or on <{page}|its web page>."
                    ),
                )
            file_id = (uploaded.get("files") or [{}])[0].get("id") or (
                uploaded.get("file") or {}
            ).get("id")
            crash_point("after:upload")
        with self._deps.uow_factory() as uow:
            stored = uow.session.get(Postmortem, job.payload["postmortem_id"])
            assert stored is not None
            stored.slack_file_id = file_id
            uow.commit()

    def _find_upload(self, channel_id: str, filename: str, title: str) -> str | None:
        with slack_call(self._settings.slack_timeout):
            page = self._client.conversations_history(channel=channel_id, limit=200)
        messages: list[dict[str, Any]] = page.get("messages", [])
        for message in messages:
            for file in message.get("files") or []:
                if file.get("name") == filename and file.get("title") == title:
                    file_id: str | None = file.get("id")
                    return file_id
        return None
