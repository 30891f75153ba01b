"""Who may do what to an incident: plain model instances, no database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from incidentbot.domain.models import Incident, RoleAssignment
from incidentbot.domain.policy import (
    DEFAULT_POLICY,
    DEFAULT_RESTRICTED,
    Action,
    NotAllowed,
    Policy,
)

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
T1 = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


def make_incident(*roles: tuple[str, str], ended: tuple[str, str] | None = None) -> Incident:
    """INC-7 with ``roles`` held now (role, user) and, if given, one role someone has left."""
    incident = Incident(number=7, title="Payments delayed", severity="SEV2", status="investigating")
    incident.roles = [
        RoleAssignment(role=role, user_id=user, assigned_by=user, started_at=T0)
        for role, user in roles
    ]
    if ended:
        role, user = ended
        incident.roles.append(
            RoleAssignment(role=role, user_id=user, assigned_by=user, started_at=T0, ended_at=T1)
        )
    return incident


LED = make_incident(("lead", "U_LEAD"), ("comms", "U_COMMS"))
ADMIN_POLICY = Policy(admins=frozenset({"U_ADMIN"}))


def test_the_default_policy_keeps_close_reopen_and_roles_for_role_holders():
    assert {Action.CLOSE, Action.REOPEN, Action.ROLES} == DEFAULT_RESTRICTED
    assert Policy(admins=frozenset(), restricted=DEFAULT_RESTRICTED) == DEFAULT_POLICY


@pytest.mark.parametrize("action", [Action.NOTES, Action.SEVERITY, Action.STATUS])
def test_anyone_may_do_what_is_not_restricted(action):
    assert DEFAULT_POLICY.allows(LED, "U_STRANGER", action) is True
    DEFAULT_POLICY.check(LED, "U_STRANGER", action)


@pytest.mark.parametrize("action", [Action.CLOSE, Action.REOPEN, Action.ROLES])
def test_a_role_holder_may_do_what_is_restricted(action):
    assert DEFAULT_POLICY.allows(LED, "U_LEAD", action) is True
    assert DEFAULT_POLICY.allows(LED, "U_COMMS", action) is True


@pytest.mark.parametrize("action", [Action.CLOSE, Action.REOPEN, Action.ROLES])
def test_someone_without_a_role_may_not_do_what_is_restricted(action):
    assert DEFAULT_POLICY.allows(LED, "U_STRANGER", action) is False


@pytest.mark.parametrize("action", list(Action))
def test_an_admin_may_do_anything(action):
    strict = Policy(admins=frozenset({"U_ADMIN"}), restricted=frozenset(Action))
    assert strict.allows(LED, "U_ADMIN", action) is True
    assert strict.allows(make_incident(), "U_ADMIN", action) is True


def test_someone_who_left_a_role_no_longer_holds_it():
    incident = make_incident(("lead", "U_LEAD"), ended=("comms", "U_FORMER"))
    assert DEFAULT_POLICY.allows(incident, "U_FORMER", Action.CLOSE) is False
    assert DEFAULT_POLICY.allows(incident, "U_LEAD", Action.CLOSE) is True


def test_while_nobody_holds_a_role_yet_anyone_may_hand_out_the_first_role():
    unled = make_incident()
    assert DEFAULT_POLICY.allows(unled, "U_FIRST_RESPONDER", Action.ROLES) is True
    DEFAULT_POLICY.check(unled, "U_FIRST_RESPONDER", Action.ROLES)


def test_a_role_everyone_has_left_counts_as_nobody_holding_one():
    unled = make_incident(ended=("lead", "U_FORMER"))
    assert DEFAULT_POLICY.allows(unled, "U_FIRST_RESPONDER", Action.ROLES) is True


@pytest.mark.parametrize("action", [Action.CLOSE, Action.REOPEN])
def test_nobody_holding_a_role_opens_only_the_roles_not_closing_or_reopening(action):
    unled = make_incident()
    assert DEFAULT_POLICY.allows(unled, "U_FIRST_RESPONDER", action) is False


def test_once_someone_holds_a_role_the_others_may_no_longer_hand_them_out():
    led_by_one = make_incident(("lead", "U_LEAD"))
    assert DEFAULT_POLICY.allows(led_by_one, "U_OTHER", Action.ROLES) is False


def test_a_stricter_policy_restricts_notes_too():
    strict = Policy(restricted=frozenset({Action.NOTES}))
    assert strict.allows(LED, "U_STRANGER", Action.NOTES) is False
    assert strict.allows(LED, "U_STRANGER", Action.CLOSE) is True
    assert strict.allows(LED, "U_LEAD", Action.NOTES) is True


@pytest.mark.parametrize(
    ("action", "verb"),
    [
        (Action.NOTES, "add to the timeline of"),
        (Action.SEVERITY, "change the severity of"),
        (Action.STATUS, "change the status of"),
        (Action.ROLES, "hand out roles in"),
        (Action.CLOSE, "close"),
        (Action.REOPEN, "reopen"),
    ],
)
def test_a_refusal_names_the_role_holders_and_what_was_refused(action, verb):
    strict = Policy(restricted=frozenset(Action))
    with pytest.raises(NotAllowed) as refused:
        strict.check(LED, "U_STRANGER", action)
    assert str(refused.value) == (
        "Only INC-7's role holders (comms <@U_COMMS>, lead <@U_LEAD>) or an incidentbot admin "
        f"can {verb} it. Ask one of them, or ask them to hand you a role."
    )


def test_a_refusal_with_nobody_in_a_role_says_none_yet():
    with pytest.raises(NotAllowed) as refused:
        DEFAULT_POLICY.check(make_incident(ended=("lead", "U_FORMER")), "U_STRANGER", Action.CLOSE)
    assert str(refused.value) == (
        "Only INC-7's role holders (none yet) or an incidentbot admin can close it. "
        "Ask one of them, or ask them to hand you a role."
    )


def test_the_author_may_correct_their_entry():
    assert DEFAULT_POLICY.may_correct(LED, "U_AUTHOR", authors={"U_AUTHOR", "U_POSTER"}) is True
    assert DEFAULT_POLICY.may_correct(LED, "U_POSTER", authors={"U_AUTHOR", "U_POSTER"}) is True
    DEFAULT_POLICY.check_correction(LED, "U_AUTHOR", authors={"U_AUTHOR"})


def test_a_role_holder_or_an_admin_may_correct_anyones_entry():
    assert ADMIN_POLICY.may_correct(LED, "U_LEAD", authors={"U_AUTHOR"}) is True
    assert ADMIN_POLICY.may_correct(LED, "U_ADMIN", authors={"U_AUTHOR"}) is True
    assert ADMIN_POLICY.may_correct(make_incident(), "U_ADMIN", authors={"U_AUTHOR"}) is True


def test_someone_else_may_not_correct_an_entry():
    assert ADMIN_POLICY.may_correct(LED, "U_STRANGER", authors={"U_AUTHOR"}) is False
    incident = make_incident(ended=("lead", "U_FORMER"))
    assert ADMIN_POLICY.may_correct(incident, "U_FORMER", authors={"U_AUTHOR"}) is False


def test_a_refused_correction_says_who_can_correct_it():
    with pytest.raises(NotAllowed) as refused:
        ADMIN_POLICY.check_correction(LED, "U_STRANGER", authors={"U_AUTHOR"})
    assert str(refused.value) == (
        "Only the entry's author, INC-7's role holders (comms <@U_COMMS>, lead <@U_LEAD>) or an "
        "incidentbot admin can correct it. Ask one of them, or add a note that says what is wrong."
    )


def test_a_refused_correction_with_nobody_in_a_role_says_none_yet():
    with pytest.raises(NotAllowed) as refused:
        DEFAULT_POLICY.check_correction(make_incident(), "U_STRANGER", authors={"U_AUTHOR"})
    assert "role holders (none yet) or an incidentbot admin can correct it." in str(refused.value)


def test_a_role_holder_or_an_admin_passes_the_check_of_a_restricted_action():
    ADMIN_POLICY.check(LED, "U_LEAD", Action.CLOSE)
    ADMIN_POLICY.check(LED, "U_ADMIN", Action.REOPEN)
    ADMIN_POLICY.check(make_incident(), "U_ADMIN", Action.CLOSE)
