"""Bad input gets a clear private reply and changes nothing; bad signatures get 401."""

from __future__ import annotations

import json
from urllib.request import urlopen

import pytest
from sqlalchemy import func, select

from incidentbot.domain.models import Incident, TimelineEntry
from incidentbot.entrypoints.local import LocalStack
from tests.e2e import declare, ephemeral_texts


def counts(stack: LocalStack) -> tuple[int, int, int]:
    with stack.runtime.uow() as uow:
        return (
            uow.session.scalar(select(func.count(Incident.id))),
            uow.session.scalar(select(func.count(TimelineEntry.id))),
            len(stack.workspace.calls("chat.postMessage")),
        )


@pytest.mark.parametrize(
    ("text", "explains"),
    [
        ("note", "The note is empty"),
        ("note    ", "The note is empty"),
        ("sev 9", "SEV1 (most severe)"),
        ("sev banana", "not a severity"),
        ("status closed", "/incident close"),
        ("status sleeping", "investigating, identified, monitoring, resolved"),
        ("role chef @bob", "Roles: lead, comms, scribe"),
        ("lead bob", "Mention exactly one person"),
        ("note at 25:00 impossible", "couldn't read"),
        ("frobnicate now", "I don't know the command"),
        ("reopen", "still open"),
    ],
)
def test_bad_input_in_an_incident_channel_is_explained_privately(stack, text, explains):
    channel = declare(stack, "Search is slow")
    before = counts(stack)
    response = stack.driver.command("alice", channel.id, text)
    assert response.status == 200
    assert response.json()["response_type"] == "ephemeral"
    assert explains in ephemeral_texts(stack, "alice", channel.id)[-1]
    stack.settle()
    assert counts(stack) == before


@pytest.mark.parametrize("text", ["note hello", "sev 1", "close", "status resolved"])
def test_incident_commands_outside_an_incident_channel_say_how_to_find_one(stack, text):
    response = stack.driver.command("bob", "#general", text)
    assert response.status == 200
    assert "/incident list" in ephemeral_texts(stack, "bob", "#general")[-1]
    assert counts(stack) == (0, 0, 0)


def test_a_backdated_note_in_the_future_is_refused(stack):
    channel = declare(stack, "Search is slow")
    stack.driver.command("alice", channel.id, "note at 2099-01-01 10:00 UTC from the future")
    assert "future" in ephemeral_texts(stack, "alice", channel.id)[-1]


def test_help_lists_the_commands(stack):
    stack.driver.command("erik", "#general", "help")
    help_text = ephemeral_texts(stack, "erik", "#general")[-1]
    for command in ("declare", "note at 14:05", "sev", "close", "postmortem"):
        assert command in help_text


@pytest.mark.parametrize("signing", [{"signature": "bad"}, {"signature": "none"}, {"stale": True}])
def test_requests_with_a_bad_missing_or_stale_signature_get_401_and_change_nothing(stack, signing):
    fields = stack.driver.command_fields("alice", "#general", "declare Forged incident")
    from urllib.parse import urlencode

    response = stack.driver.raw(
        urlencode(fields).encode(), content_type="application/x-www-form-urlencoded", **signing
    )
    assert response.status == 401
    stack.settle()
    assert counts(stack) == (0, 0, 0)


def test_url_verification_is_answered(stack):
    response = stack.driver.url_verification("challenge-123")
    assert response.status == 200 and "challenge-123" in response.body


def test_healthz_answers_once_the_database_is_current(stack):
    with urlopen(f"{stack.base_url}/healthz") as answer:
        assert answer.status == 200
        assert json.loads(answer.read()) == {"ok": True}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"payload=%7Bx", "application/x-www-form-urlencoded"),
        (b"payload=%5B%5D", "application/x-www-form-urlencoded"),
        (b"hello", "text/plain"),
    ],
)
def test_malformed_bodies_are_refused_before_any_listener_runs(stack, body, content_type):
    response = stack.driver.raw(body, content_type=content_type)
    assert response.status == 400
    assert counts(stack) == (0, 0, 0)


def test_a_body_that_is_not_utf8_is_refused(stack):
    # Slack signs text; such a body cannot carry a valid signature, and must still not be a 500.
    response = stack.driver.raw(b"\xff\xfe", content_type="application/json", signature="none")
    assert response.status == 400


def test_an_oversized_body_gets_413_and_the_server_keeps_serving(stack):
    response = stack.driver.raw(b"x" * (1024 * 1024 + 1), content_type="application/json")
    assert response.status == 413
    assert stack.driver.command("bob", "#general", "help").status == 200


def test_a_view_submission_without_a_user_changes_nothing(stack):
    import json as _json
    from urllib.parse import urlencode

    payload = {
        "type": "view_submission",
        "view": {"type": "modal", "callback_id": "declare_incident", "id": "V1", "state": {}},
    }
    response = stack.driver.raw(
        urlencode({"payload": _json.dumps(payload)}).encode(),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status == 200
    stack.settle()
    assert counts(stack) == (0, 0, 0)


def test_only_role_holders_close_and_the_refusal_says_who_can(stack):
    channel = declare(stack, "Search is slow")
    stack.driver.join("bob", channel.id)
    before = counts(stack)
    for text, verb in (("close", "close it"), ("reopen", None), ("lead <@UBOB|bob>", "hand out")):
        response = stack.driver.command("bob", channel.id, text)
        assert response.json()["response_type"] == "ephemeral"
        if verb:
            reply = ephemeral_texts(stack, "bob", channel.id)[-1]
            assert "lead <@UALICE>" in reply and verb in reply
    stack.settle()
    assert counts(stack) == before
    stack.driver.command("bob", channel.id, "sev 2")  # anyone may change severity
    stack.settle()
    assert "SEV2" in str(stack.workspace.messages(channel.id)[0].blocks)


def test_an_admin_may_close_any_incident(db_url):
    from incidentbot.entrypoints.local import LocalStack

    with LocalStack(database_url=db_url, admins=frozenset({"UERIK"})) as stack:
        channel = declare(stack, "Search is slow")
        stack.driver.join("erik", channel.id)
        stack.driver.command("erik", channel.id, "close")
        stack.settle()
        assert any("is closed" in t for t in ephemeral_texts(stack, "erik", channel.id))
        with stack.runtime.uow() as uow:
            assert uow.session.query(Incident).one().status == "closed"
