"""The domain core against a real database, no Slack: state after each service call."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from incidentbot import services
from incidentbot.domain.errors import IncidentError, NotInIncidentChannel
from incidentbot.domain.models import EntryKind, Incident, Job, Severity, Status, TimelineEntry
from incidentbot.domain.timeparse import TimeParseError
from incidentbot.infra import jobs
from incidentbot.services.incidents import get_incident


def declare(uow_factory, title="Checkout API returning 500s", **kwargs) -> int:
    with uow_factory() as uow:
        incident = services.declare_incident(
            uow=uow, title=title, declared_by=kwargs.pop("declared_by", "UALICE"), **kwargs
        )
        incident.channel_id = f"C{incident.number:04d}"
        uow.commit()
        return incident.number


def load(uow, number: int) -> Incident:
    return get_incident(uow=uow, number=number)


def job_kinds(uow) -> list[str]:
    return list(uow.session.scalars(select(Job.kind).order_by(Job.id)))


def test_declared_incidents_get_sequential_numbers_and_the_declarer_leads(uow_factory, clock):
    first = declare(uow_factory)
    second = declare(uow_factory, title="Search is slow", declared_by="UBOB")
    assert (first, second) == (1, 2)
    with uow_factory() as uow:
        incident = load(uow, 2)
        assert incident.status == Status.INVESTIGATING
        assert incident.severity == Severity.SEV3
        assert incident.holder("lead") == "UBOB"
        assert incident.declared_at == incident.impact_started_at == clock.now
        assert [e.kind for e in incident.timeline] == [EntryKind.DECLARED]
        assert job_kinds(uow) == [jobs.OPEN_CHANNEL, jobs.OPEN_CHANNEL]


def test_a_repeated_request_key_declares_once(uow_factory):
    declare(uow_factory, request_key="view:V1")
    declare(uow_factory, request_key="view:V1")
    with uow_factory() as uow:
        assert len(uow.session.scalars(select(Incident)).all()) == 1


@pytest.mark.parametrize("title", ["", "   ", "x" * 301])
def test_bad_titles_are_refused_and_nothing_is_recorded(uow_factory, title):
    with pytest.raises(IncidentError):
        declare(uow_factory, title=title)
    with uow_factory() as uow:
        assert uow.session.scalars(select(Incident)).all() == []


def test_severity_change_is_recorded_with_before_and_after(uow_factory):
    number = declare(uow_factory)
    with uow_factory() as uow:
        incident = load(uow, number)
        services.change_severity(
            uow=uow, incident=incident, severity=Severity.SEV1, changed_by="UBOB"
        )
        uow.commit()
    with uow_factory() as uow:
        incident = load(uow, number)
        assert incident.severity == Severity.SEV1
        entry = incident.timeline[-1]
        assert (entry.kind, entry.details) == (EntryKind.SEVERITY, {"from": "SEV3", "to": "SEV1"})
        with pytest.raises(IncidentError, match="already SEV1"):
            services.change_severity(
                uow=uow, incident=incident, severity=Severity.SEV1, changed_by="UBOB"
            )


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("1", "SEV1"), ("sev2", "SEV2"), ("SEV3", "SEV3"), ("sev 4", "SEV4"), ("S2", "SEV2")],
)
def test_severity_spellings(typed, expected):
    assert services.parse_severity(typed) == expected


@pytest.mark.parametrize("typed", ["9", "0", "SEV5", "high", "", "1.5"])
def test_unknown_severities_are_refused_with_the_scale(typed):
    with pytest.raises(IncidentError, match="SEV1 \\(most severe\\)"):
        services.parse_severity(typed)


def test_status_lifecycle_sets_the_moments_metrics_use(uow_factory, clock):
    number = declare(uow_factory)
    moments = {}
    for status in (Status.IDENTIFIED, Status.MONITORING, Status.RESOLVED):
        moments[status] = clock.advance(minutes=10)
        with uow_factory() as uow:
            services.change_status(
                uow=uow, incident=load(uow, number), status=status, changed_by="UALICE"
            )
            uow.commit()
    with uow_factory() as uow:
        incident = load(uow, number)
        assert incident.mitigated_at == moments[Status.MONITORING]
        assert incident.resolved_at == moments[Status.RESOLVED]


def test_moving_back_from_monitoring_clears_the_mitigation(uow_factory, clock):
    number = declare(uow_factory)
    with uow_factory() as uow:
        services.change_status(
            uow=uow, incident=load(uow, number), status=Status.MONITORING, changed_by="U1"
        )
        uow.commit()
    clock.advance(minutes=5)
    with uow_factory() as uow:
        services.change_status(
            uow=uow, incident=load(uow, number), status=Status.INVESTIGATING, changed_by="U1"
        )
        uow.commit()
        assert load(uow, number).mitigated_at is None


def test_close_resolves_generates_and_refuses_a_second_close(uow_factory, clock):
    number = declare(uow_factory)
    clock.advance(hours=1)
    with uow_factory() as uow:
        services.close(uow=uow, incident=load(uow, number), closed_by="UALICE")
        uow.commit()
    with uow_factory() as uow:
        incident = load(uow, number)
        assert incident.status == Status.CLOSED
        assert incident.resolved_at == incident.closed_at == clock.now
        assert jobs.GENERATE_POSTMORTEM in job_kinds(uow)
        with pytest.raises(IncidentError, match="already closed"):
            services.close(uow=uow, incident=incident, closed_by="UALICE")
        with pytest.raises(IncidentError, match="is closed"):
            services.add_note(uow=uow, incident=incident, author_id="UALICE", text="late")


def test_reopen_counts_and_clears_the_resolution(uow_factory):
    number = declare(uow_factory)
    with uow_factory() as uow:
        with pytest.raises(IncidentError, match="still open"):
            services.reopen(uow=uow, incident=load(uow, number), reopened_by="UALICE")
        services.resolve(uow=uow, incident=load(uow, number), resolved_by="U1", text=None)
        uow.commit()
    with uow_factory() as uow:
        services.reopen(uow=uow, incident=load(uow, number), reopened_by="UALICE")
        uow.commit()
        incident = load(uow, number)
        assert (incident.status, incident.reopened_count, incident.resolved_at) == (
            Status.INVESTIGATING,
            1,
            None,
        )


def test_role_handover_keeps_history(uow_factory, clock):
    number = declare(uow_factory)
    handed_over = clock.advance(minutes=3)
    with uow_factory() as uow:
        services.assign_role(
            uow=uow, incident=load(uow, number), role="lead", user_id="UBOB", assigned_by="UALICE"
        )
        uow.commit()
    with uow_factory() as uow:
        incident = load(uow, number)
        assert incident.holder("lead") == "UBOB"
        first, second = incident.roles
        assert (first.user_id, first.ended_at) == ("UALICE", handed_over)
        assert (second.user_id, second.started_at, second.ended_at) == ("UBOB", handed_over, None)
        assert jobs.INVITE in job_kinds(uow)
        with pytest.raises(IncidentError, match="already the lead"):
            services.assign_role(
                uow=uow, incident=incident, role="lead", user_id="UBOB", assigned_by="UBOB"
            )


def test_backdated_note_is_read_in_the_authors_zone(uow_factory, clock):
    clock.now = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
    number = declare(uow_factory)
    with uow_factory() as uow:
        entry = services.add_backdated_note(
            uow=uow,
            incident=load(uow, number),
            author_id="UALICE",
            moment_and_text="9:15 error rate started climbing",
            author_zone="America/Los_Angeles",
        )
        uow.commit()
        assert entry.occurred_at == datetime(2026, 11, 27, 17, 15, tzinfo=UTC)
        assert entry.text == "error rate started climbing"
        assert entry.recorded_at == clock.now


def test_notes_in_the_future_or_empty_are_refused_and_change_nothing(uow_factory):
    number = declare(uow_factory)
    with uow_factory() as uow:
        incident = load(uow, number)
        with pytest.raises(TimeParseError, match="future"):
            services.add_backdated_note(
                uow=uow,
                incident=incident,
                author_id="U1",
                moment_and_text="2026-11-28 10:00 UTC tomorrow's news",
                author_zone="UTC",
            )
        with pytest.raises(IncidentError, match="empty"):
            services.add_note(uow=uow, incident=incident, author_id="U1", text="   ")
    with uow_factory() as uow:
        assert len(load(uow, number).timeline) == 1


def test_a_message_pinned_and_reacted_to_is_recorded_once(uow_factory):
    number = declare(uow_factory)
    marks = [("UBOB", "deploy 42 rolled back"), ("UCAROL", None), ("UBOB", None)]
    for marked_by, text in marks:
        with uow_factory() as uow:
            services.capture_message(
                uow=uow,
                incident=load(uow, number),
                channel_id="C0001",
                ts="1764252000.000100",
                message_author_id="UDANA",
                text=text,
                marked_by=marked_by,
            )
            uow.commit()
    with uow_factory() as uow:
        captured = uow.session.scalars(
            select(TimelineEntry).where(TimelineEntry.kind == EntryKind.PINNED)
        ).all()
        assert len(captured) == 1
        assert captured[0].text == "deploy 42 rolled back"
        assert captured[0].occurred_at == datetime.fromtimestamp(1764252000.0001, tz=UTC)
        assert captured[0].also_marked_by == ["UCAROL"]
        assert job_kinds(uow).count(jobs.CAPTURE_DETAILS) == 1


def test_action_item_with_owner_and_due_date(uow_factory):
    number = declare(uow_factory)
    with uow_factory() as uow:
        item = services.add_action_item(
            uow=uow,
            incident=load(uow, number),
            created_by="UALICE",
            text="Alert on checkout 5xx rate",
            owner_id="UBOB",
            due_text="2026-12-04",
        )
        uow.commit()
        assert (item.owner_id, item.due_date) == ("UBOB", date(2026, 12, 4))


def test_commands_outside_an_incident_channel_say_how_to_find_one(uow_factory):
    with uow_factory() as uow, pytest.raises(NotInIncidentChannel, match="/incident list"):
        services.incident_in_channel(uow=uow, channel_id="CRANDOM")


def test_postmortem_versions_count_up(uow_factory):
    from incidentbot.postmortem.render import PostmortemRenderer

    number = declare(uow_factory)
    renderer = PostmortemRenderer()
    versions = []
    for _ in range(2):
        with uow_factory() as uow:
            postmortem = services.generate_postmortem(
                uow=uow,
                incident=load(uow, number),
                renderer=renderer,
                generated_by="UALICE",
                trigger="command",
            ).postmortem
            uow.commit()
            versions.append(postmortem.version)
    assert versions == [1, 2]
    with uow_factory() as uow:
        latest = services.latest_postmortem(incident=load(uow, number))
        assert latest.markdown.startswith("# ")
        assert "<html" in latest.html
        assert services.latest_postmortem(incident=load(uow, number), version=1).version == 1
        with pytest.raises(IncidentError, match="no postmortem version 7"):
            services.latest_postmortem(incident=load(uow, number), version=7)


def test_generation_reviews_what_people_wrote_for_blame_and_hindsight(uow_factory):
    from incidentbot.domain.blameless import load_rules
    from incidentbot.postmortem.render import PostmortemRenderer

    number = declare(uow_factory)
    with uow_factory() as uow:
        incident = load(uow, number)
        services.add_note(
            uow=uow, incident=incident, author_id="UBOB", text="Root cause was human error."
        )
        services.add_note(
            uow=uow, incident=incident, author_id="UBOB", text="The deploy failed at 14:02."
        )
        services.set_summary(
            uow=uow, incident=incident, author_id="UALICE", text="We rolled back just in time."
        )
        generated = services.generate_postmortem(
            uow=uow,
            incident=incident,
            renderer=PostmortemRenderer(),
            generated_by="UALICE",
            trigger="command",
            rules=load_rules(),
        )
        uow.commit()
    (flag,) = generated.review
    assert (flag.rule_id, flag.phrase) == ("human-error", "human error")
    assert flag.where.startswith("note by UBOB at 2026-11-27 14:00")
    review_notes = generated.postmortem.markdown.split("## Review notes", 1)[1]
    assert "human error" in review_notes


def test_close_reopen_and_roles_are_for_role_holders_and_admins(uow_factory):
    from incidentbot.domain.policy import NotAllowed, Policy

    number = declare(uow_factory)
    with uow_factory() as uow:
        incident = load(uow, number)
        with pytest.raises(NotAllowed, match=r"role holders \(lead <@UALICE>\)"):
            services.close(uow=uow, incident=incident, closed_by="UBOB")
        with pytest.raises(NotAllowed, match="hand out roles"):
            services.assign_role(
                uow=uow, incident=incident, role="comms", user_id="UBOB", assigned_by="UBOB"
            )
        # Anyone may note and change severity; an admin may close.
        services.add_note(uow=uow, incident=incident, author_id="UBOB", text="seen it too")
        services.change_severity(
            uow=uow, incident=incident, severity=Severity.SEV2, changed_by="UBOB"
        )
        services.close(
            uow=uow, incident=incident, closed_by="UADMIN", policy=Policy(admins={"UADMIN"})
        )
        uow.commit()
    with uow_factory() as uow:
        assert load(uow, number).status == Status.CLOSED


def test_a_stricter_policy_can_restrict_notes_too(uow_factory):
    from incidentbot.domain.policy import Action, NotAllowed, Policy

    number = declare(uow_factory)
    strict = Policy(restricted=frozenset(Action))
    with uow_factory() as uow, pytest.raises(NotAllowed, match="add to the timeline"):
        services.add_note(
            uow=uow, incident=load(uow, number), author_id="UBOB", text="x", policy=strict
        )
