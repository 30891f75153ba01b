"""Changes recorded at the moment they happened, refusals that change nothing, and corrections
that keep their history: all through the real endpoint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from incidentbot.domain.models import EntryKind, Incident, TimelineEntry, TimelineRevision
from incidentbot.entrypoints.local import LocalStack
from tests.e2e import declare, ephemeral_texts, mention


def run(stack: LocalStack, user: str, channel: str, text: str) -> str:
    response = stack.driver.command(user, channel, text)
    assert response.status == 200, response.body
    return ephemeral_texts(stack, user)[-1]


def snapshot(stack: LocalStack) -> tuple:
    """Everything a refusal must leave as it was: the incidents and every entry."""
    with stack.runtime.uow() as uow:
        incidents = [
            (
                i.number,
                i.severity,
                i.status,
                i.declared_at,
                i.impact_started_at,
                i.detected_at,
                i.mitigated_at,
                i.resolved_at,
                i.closed_at,
            )
            for i in uow.session.scalars(select(Incident).order_by(Incident.id))
        ]
        entries = [
            (e.id, e.number, e.kind, e.text, e.occurred_at, e.deleted_at)
            for e in uow.session.scalars(select(TimelineEntry).order_by(TimelineEntry.id))
        ]
        revisions = uow.session.scalars(select(TimelineRevision.id)).all()
        return incidents, entries, revisions


def the_incident(stack: LocalStack) -> Incident:
    with stack.runtime.uow() as uow:
        found = uow.session.scalar(select(Incident).where(Incident.number == 1))
        assert found is not None
        return found


def entries(stack: LocalStack, kind: EntryKind | None = None) -> list[TimelineEntry]:
    with stack.runtime.uow() as uow:
        stmt = select(TimelineEntry).order_by(TimelineEntry.number)
        if kind is not None:
            stmt = stmt.where(TimelineEntry.kind == kind)
        return list(uow.session.scalars(stmt))


def local_minutes_ago(minutes: int, zone: str = "America/Los_Angeles") -> datetime:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).astimezone(ZoneInfo(zone))


# --- changes at the moment they happened ----------------------------------------------------


def test_severity_status_and_milestones_at_their_moments_set_the_metrics(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    start = local_minutes_ago(50)
    seen = local_minutes_ago(45)
    sev1 = local_minutes_ago(40)
    fixed = local_minutes_ago(20)
    over = local_minutes_ago(10)
    # alice is in Los Angeles and types her own local times without a zone.
    run(stack, "alice", channel.id, f"started at {start:%H:%M}")
    run(stack, "alice", channel.id, f"detected at {seen:%H:%M} pager went off")
    reply = run(stack, "alice", channel.id, f"sev 1 at {sev1:%H:%M}")
    assert f"{sev1:%H:%M}" in reply and "SEV1" in reply
    run(stack, "alice", channel.id, f"status monitoring at {fixed:%H:%M} rolled back")
    run(stack, "alice", channel.id, f"resolve at {over:%H:%M} all clear")
    stack.settle()

    incident = the_incident(stack)
    minute = timedelta(minutes=1)

    def utc(local: datetime) -> datetime:
        return local.replace(second=0, microsecond=0).astimezone(UTC)

    assert incident.impact_started_at == utc(start)
    assert incident.detected_at == utc(seen)
    assert incident.severity == "SEV1"
    assert incident.status == "resolved"
    assert incident.mitigated_at == utc(fixed)
    assert incident.resolved_at == utc(over)
    assert abs(incident.declared_at - datetime.now(UTC)) < 5 * minute
    status = entries(stack, EntryKind.STATUS)
    assert [e.text for e in status] == [
        "Status changed from investigating to monitoring: rolled back",
        "Status changed from monitoring to resolved: all clear",
    ]
    assert all(e.recorded_at - e.occurred_at > 5 * minute for e in status)
    # The channel hears when it happened, not only that it did.
    shown = [m.text for m in stack.workspace.messages(channel.id)]
    assert any(
        "Severity changed from SEV3 to SEV1" in text and ("PDT" in text or "PST" in text)
        for text in shown
    )


def test_a_change_recorded_earlier_than_a_later_one_keeps_the_current_state(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    run(stack, "alice", channel.id, f"started at {local_minutes_ago(60):%H:%M}")
    run(stack, "alice", channel.id, "sev 2")
    reply = run(stack, "alice", channel.id, f"sev 1 at {local_minutes_ago(30):%H:%M}")
    assert "It is SEV2 now" in reply
    assert the_incident(stack).severity == "SEV2"


# --- refusals: private, clear, nothing changed ----------------------------------------------


def test_a_time_that_does_not_parse_is_refused_never_kept_as_text(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    before = snapshot(stack)
    for text in (
        "resolve at 25:99 Fixed",
        "status monitoring at 7:99",
        "sev 1 at 99:00",
        "mitigated at 14:5x",
        "started at 2026-13-40 10:00",
        "note at 24:00 too late",
    ):
        reply = run(stack, "alice", channel.id, text)
        assert "couldn't read" in reply, (text, reply)
    assert snapshot(stack) == before


def test_a_moment_in_the_future_is_refused(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    before = snapshot(stack)
    later = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
    for text in (f"sev 1 at {later} UTC", f"resolve at {later} UTC", f"mitigated at {later} UTC"):
        assert "future" in run(stack, "alice", channel.id, text).lower(), text
    assert snapshot(stack) == before


def test_milestones_out_of_order_are_refused_naming_both(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    run(stack, "alice", channel.id, f"started at {local_minutes_ago(30):%H:%M}")
    before = snapshot(stack)
    reply = run(stack, "alice", channel.id, f"mitigated at {local_minutes_ago(40):%H:%M}")
    assert "the mitigation" in reply and "the impact start" in reply
    assert "/incident started at" in reply and "Nothing was changed" in reply
    assert snapshot(stack) == before

    run(stack, "alice", channel.id, f"mitigated at {local_minutes_ago(10):%H:%M}")
    before = snapshot(stack)
    reply = run(stack, "alice", channel.id, f"resolve at {local_minutes_ago(20):%H:%M}")
    assert "the resolution" in reply and "the mitigation" in reply
    assert snapshot(stack) == before

    reply = run(stack, "alice", channel.id, f"started at {local_minutes_ago(5):%H:%M}")
    assert "the impact start" in reply and "/incident mitigated at" in reply
    assert snapshot(stack) == before


def test_declare_at_a_time_explains_how_to_record_an_incident_after_the_fact(stack: LocalStack):
    before = snapshot(stack)
    reply = run(stack, "alice", "#general", "declare at 2026-12-01 09:00 UTC Checkout down")
    assert "/incident record" in reply
    assert snapshot(stack) == before


def test_a_dateless_impact_start_long_before_the_declaration_asks_for_the_date(
    stack: LocalStack,
):
    channel = declare(stack, "Search is slow")
    before = snapshot(stack)
    # An hour from now, read as yesterday: about 23 hours before the declaration.
    typed = (datetime.now(UTC) + timedelta(hours=1)).astimezone(ZoneInfo("America/Los_Angeles"))
    reply = run(stack, "alice", channel.id, f"started at {typed:%H:%M}")
    yesterday = typed - timedelta(days=1)
    assert f"/incident started at {yesterday:%Y-%m-%d %H:%M}" in reply
    assert f"{yesterday:%A}" in reply and "Nothing was changed" in reply
    assert snapshot(stack) == before
    run(stack, "alice", channel.id, f"started at {yesterday:%Y-%m-%d %H:%M}")
    assert the_incident(stack).impact_started_at == yesterday.replace(
        second=0, microsecond=0
    ).astimezone(UTC)


def test_an_explicit_date_more_than_a_year_ago_is_accepted(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    run(stack, "alice", channel.id, "note at 2024-03-05 10:00 UTC the same symptom, long ago")
    (note,) = entries(stack, EntryKind.NOTE)
    assert note.occurred_at == datetime(2024, 3, 5, 10, 0, tzinfo=UTC)


# --- correcting the record ------------------------------------------------------------------


def test_timeline_lists_entries_with_numbers_and_pages(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    for n in range(25):
        run(stack, "alice", channel.id, f"note step {n}")
    listing = run(stack, "alice", channel.id, "timeline")
    assert "page 2 of 2" in listing and "`#26`" in listing and "step 24" in listing
    assert "`/incident timeline 1`" in listing
    first = run(stack, "alice", channel.id, "timeline 1")
    assert "`#1`" in first and "Incident declared" in first and "step 24" not in first
    assert "ask for one from 1 to 2" in run(stack, "alice", channel.id, "timeline 7")


def test_edit_and_delete_keep_every_old_value(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.driver.join("bob", channel.id)
    run(stack, "bob", channel.id, "note restarted serch-7")
    (note,) = entries(stack, EntryKind.NOTE)
    reply = run(stack, "bob", channel.id, f"edit {note.number} restarted search-7")
    assert f"#{note.number}" in reply
    moved_to = local_minutes_ago(3, zone="Europe/Berlin")
    run(stack, "bob", channel.id, f"edit #{note.number} at {moved_to:%H:%M}")
    run(stack, "alice", channel.id, "note posted in the wrong incident")
    wrong = entries(stack, EntryKind.NOTE)[-1]
    run(stack, "alice", channel.id, f"delete {wrong.number} belongs to INC-2")
    stack.settle()

    edited, deleted = entries(stack, EntryKind.NOTE)
    assert edited.text == "restarted search-7"
    assert edited.occurred_at == moved_to.replace(second=0, microsecond=0).astimezone(UTC)
    assert deleted.deleted_at is not None and deleted.deleted_by == "UALICE"
    with stack.runtime.uow() as uow:
        history = [
            (r.entry_id, r.change, r.revised_by, r.old_text, r.new_text, r.reason)
            for r in uow.session.scalars(select(TimelineRevision).order_by(TimelineRevision.id))
        ]
    assert history[0] == (
        edited.id,
        "text",
        "UBOB",
        "restarted serch-7",
        "restarted search-7",
        None,
    )
    assert history[1][:3] == (edited.id, "time", "UBOB")
    assert history[2] == (
        deleted.id,
        "delete",
        "UALICE",
        "posted in the wrong incident",
        None,
        "belongs to INC-2",
    )
    listing = run(stack, "alice", channel.id, "timeline")
    assert "wrong incident" not in listing and "1 deleted entry" in listing

    run(stack, "alice", channel.id, "close")
    stack.settle()
    (document,) = [
        (f.content or b"").decode()
        for f in stack.workspace.files_in(channel.id)
        if f.name.endswith("-postmortem.md")
    ]
    assert "restarted search-7" in document and "serch-7" not in document
    assert "wrong incident" not in document
    (row,) = [line for line in document.splitlines() if "restarted search-7 " in line]
    assert "_(edited)_" in row


def test_corrections_are_for_the_author_role_holders_and_admins(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    for person in ("bob", "dana"):
        stack.driver.join(person, channel.id)
    run(stack, "bob", channel.id, "note bob's own note")
    (note,) = entries(stack, EntryKind.NOTE)
    before = snapshot(stack)
    reply = run(stack, "dana", channel.id, f"edit {note.number} dana rewrites it")
    assert "author" in reply and "role holders" in reply
    assert "role holders" in run(stack, "dana", channel.id, f"delete {note.number}")
    assert snapshot(stack) == before
    run(stack, "alice", channel.id, f"role comms {mention('UDANA')}")
    run(stack, "dana", channel.id, f"edit {note.number} dana, now comms, rewrites it")
    assert entries(stack, EntryKind.NOTE)[0].text == "dana, now comms, rewrites it"


def test_what_cannot_be_corrected_says_how_instead(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    run(stack, "alice", channel.id, "sev 2")
    before = snapshot(stack)
    assert "no timeline entry #99" in run(stack, "alice", channel.id, "edit 99 hello")
    assert "not an entry number" in run(stack, "alice", channel.id, "edit x hello")
    assert "cannot be deleted" in run(stack, "alice", channel.id, "delete 1")
    assert "bot's record" in run(stack, "alice", channel.id, "edit 2 it was worse")
    assert snapshot(stack) == before


def test_deleting_a_state_change_replays_the_incident(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    run(stack, "alice", channel.id, "sev 1")
    change = entries(stack, EntryKind.SEVERITY)[0]
    run(stack, "alice", channel.id, f"delete {change.number} typo, it was never SEV1")
    assert the_incident(stack).severity == "SEV3"


def test_a_time_read_as_yesterday_says_so_and_ambiguous_zones_name_their_meanings(
    stack: LocalStack,
):
    channel = declare(stack, "Search is slow")
    la_now = datetime.now(UTC).astimezone(ZoneInfo("America/Los_Angeles"))
    # A time later today in Los Angeles (just after midnight there, 23:59 is still later).
    later_today = la_now + timedelta(minutes=30)
    if later_today.date() != la_now.date():
        later_today = la_now.replace(hour=23, minute=59)
    reply = run(stack, "alice", channel.id, f"note at {later_today:%H:%M} overnight batch failed")
    yesterday = later_today - timedelta(days=1)
    assert f"yesterday, {yesterday.day} {yesterday:%b}, {yesterday:%H:%M} P" in reply
    before = snapshot(stack)
    reply = run(stack, "alice", channel.id, "note at 09:00 CST standup")
    assert "America/Chicago" in reply and "Asia/Shanghai" in reply
    assert snapshot(stack) == before
    stack.driver.join("chandra", channel.id)
    run(stack, "chandra", channel.id, "note at 2026-11-30 19:15 IST seen from Bangalore")
    note = entries(stack, EntryKind.NOTE)[-1]
    assert note.occurred_at == datetime(2026, 11, 30, 13, 45, tzinfo=UTC)


def test_record_alone_opens_the_record_form_which_records_after_the_fact(stack: LocalStack):
    from incidentbot.slack import ids

    assert stack.driver.command("erik", "#general", "record").status == 200
    (form,) = stack.workspace.open_views("erik")
    assert form.view["title"]["text"] == "Record a past incident"
    response = stack.driver.submit_view(
        "erik",
        form.id,
        {
            ids.TITLE_INPUT: "Queue backlog",
            ids.PAST_STARTED_INPUT: "2026-11-20 09:00",
            ids.PAST_RESOLVED_INPUT: "2026-11-20 10:30",
        },
    )
    assert response.status == 200
    stack.settle()
    recorded = the_incident(stack)
    assert recorded.after_the_fact and recorded.status == "resolved"
    # erik is in London: GMT in November.
    assert recorded.impact_started_at == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert recorded.resolved_at == datetime(2026, 11, 20, 10, 30, tzinfo=UTC)


def test_a_missed_note_can_be_added_to_a_closed_incident_for_a_moment_before_its_close(
    stack: LocalStack,
):
    channel = declare(stack, "Search is slow")
    run(stack, "alice", channel.id, "close")
    stack.settle()
    before = snapshot(stack)
    assert "is closed" in run(stack, "alice", channel.id, "note a late thought")
    later = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")
    assert "was closed at" in run(stack, "alice", channel.id, f"note at {later} UTC too late")
    assert snapshot(stack) == before
    earlier = local_minutes_ago(30)
    reply = run(stack, "alice", channel.id, f"note at {earlier:%H:%M} the first alert we missed")
    assert "Added" in reply
    incident = the_incident(stack)
    assert incident.status == "closed" and incident.reopened_count == 0
    assert entries(stack, EntryKind.NOTE)[-1].text == "the first alert we missed"
