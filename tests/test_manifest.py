"""The Slack app manifest: valid for Slack, and asking for exactly the scopes the code needs.

Slack's manifest schema is kept in ``tests/data`` (MIT licence beside it) so this runs from a
bare checkout. The scope check reads the source: every Web API method called anywhere in
``incidentbot/`` (the local workspace in ``incidentbot/emulator/`` aside) must be allowed by a
declared bot scope, and every declared scope must be needed by a call, an event or a feature.
"""

from __future__ import annotations

import ast
import copy
import inspect
import json
import re
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator, ValidationError, validators
from slack_sdk.web import client as slack_web_client

import incidentbot
from incidentbot.emulator import Workspace, scopes
from incidentbot.infra.config import Settings
from incidentbot.slack import ids
from incidentbot.slack.manifest import build_manifest
from tests.test_cli import INCIDENTBOT, clean_env

SCHEMA = Path(__file__).parent / "data" / "slack-manifest.schema.1.0.0.json"
PACKAGE = Path(incidentbot.__file__).parent
EMULATOR = PACKAGE / "emulator"
EVENTS_PATH = "/slack/events"


# --- Slack's schema ----------------------------------------------------------------------------


def _regex(validator, pattern, instance, schema) -> Iterator[ValidationError]:  # type: ignore[no-untyped-def]
    if validator.is_type(instance, "string") and not re.search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# Slack's schema spells one constraint "regex" (display_information.background_color), which
# draft-07 ignores; reading it as "pattern" catches a malformed colour too.
ManifestValidator = validators.extend(Draft7Validator, {"regex": _regex})


@cache
def _schema() -> dict:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    return schema


def schema_errors(manifest: dict) -> list[str]:
    errors = ManifestValidator(_schema()).iter_errors(manifest)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors]


MANIFESTS = {
    "http": (Settings(), False),
    "socket-mode": (Settings(), True),
    "custom command and URL": (
        Settings(command="/inc", base_url="https://ops.example.com/incidentbot"),
        False,
    ),
    "custom command, socket mode": (Settings(command="/sev-bot"), True),
}


@pytest.mark.parametrize("case", MANIFESTS)
def test_manifest_is_valid_against_slacks_schema(case):
    settings, socket_mode = MANIFESTS[case]
    assert schema_errors(build_manifest(settings, socket_mode=socket_mode)) == []


def _unslashed_command(manifest: dict) -> None:
    manifest["features"]["slash_commands"][0]["command"] = "incident"


def _typo_in_settings(manifest: dict) -> None:
    manifest["settings"]["socket_mode"] = True


def _no_display_information(manifest: dict) -> None:
    del manifest["display_information"]


def _bad_colour(manifest: dict) -> None:
    manifest["display_information"]["background_color"] = "navy"


def _repeated_event(manifest: dict) -> None:
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    events.append(events[0])


def _relative_request_url(manifest: dict) -> None:
    manifest["settings"]["interactivity"]["request_url"] = EVENTS_PATH


def _long_shortcut_name(manifest: dict) -> None:
    manifest["features"]["shortcuts"] = [
        {
            "name": "Add this message to the incident timeline",
            "type": "message",
            "callback_id": "x",
            "description": "too long a name for Slack",
        }
    ]


@pytest.mark.parametrize(
    ("breakage", "where"),
    [
        (_unslashed_command, "features/slash_commands/0/command"),
        (_typo_in_settings, "settings"),
        (_no_display_information, "(top)"),
        (_bad_colour, "display_information/background_color"),
        (_repeated_event, "settings/event_subscriptions/bot_events"),
        (_relative_request_url, "settings/interactivity/request_url"),
        (_long_shortcut_name, "features/shortcuts/0/name"),
    ],
)
def test_the_schema_check_fails_on_a_broken_manifest(breakage, where):
    broken = copy.deepcopy(build_manifest(Settings()))
    breakage(broken)
    errors = schema_errors(broken)
    assert errors, f"{breakage.__name__} was not caught"
    assert any(error.startswith(f"{where}:") for error in errors), errors


def test_cli_prints_a_valid_manifest_for_both_modes(tmp_path):
    for extra, socket_mode in (([], False), (["--socket-mode"], True)):
        result = subprocess.run(
            [*INCIDENTBOT, "manifest", *extra],
            env=clean_env(INCIDENTBOT_BASE_URL="https://incidents.example.com"),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        printed = yaml.safe_load(result.stdout)
        assert schema_errors(printed) == []
        assert printed["settings"]["socket_mode_enabled"] is socket_mode
        expected = build_manifest(
            Settings(base_url="https://incidents.example.com"), socket_mode=socket_mode
        )
        assert printed == expected


# --- what the manifest says --------------------------------------------------------------------


def _urls(value: object) -> list[str]:
    """Every request URL anywhere in the manifest."""
    if isinstance(value, dict):
        found = [v for k, v in value.items() if k.endswith("url") and isinstance(v, str)]
        return found + [url for v in value.values() for url in _urls(v)]
    if isinstance(value, list):
        return [url for item in value for url in _urls(item)]
    return []


def test_http_mode_sends_commands_interactivity_and_events_to_the_events_endpoint():
    manifest = build_manifest(
        Settings(command="/inc", base_url="https://ops.example.com/incidentbot")
    )
    url = "https://ops.example.com/incidentbot" + EVENTS_PATH
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/inc"
    assert command["should_escape"] is True
    assert command["url"] == url
    assert manifest["settings"]["interactivity"] == {"is_enabled": True, "request_url": url}
    assert manifest["settings"]["event_subscriptions"]["request_url"] == url
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert set(_urls(manifest)) == {url}


def test_socket_mode_has_no_request_urls_and_keeps_everything_else():
    http = build_manifest(Settings())
    socket = build_manifest(Settings(), socket_mode=True)
    assert _urls(socket) == []
    assert socket["settings"]["socket_mode_enabled"] is True
    assert socket["settings"]["interactivity"]["is_enabled"] is True
    assert socket["features"]["slash_commands"][0]["should_escape"] is True
    events = socket["settings"]["event_subscriptions"]["bot_events"]
    assert events == http["settings"]["event_subscriptions"]["bot_events"]
    assert socket["oauth_config"] == http["oauth_config"]


# --- what the code registers ------------------------------------------------------------------


def _sources(root: Path = PACKAGE) -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(root.rglob("*.py")):
        if EMULATOR not in path.parents:
            yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _value(node: ast.expr) -> str:
    """A listener's literal argument: a string, or a constant from ``incidentbot.slack.ids``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "ids"
    ):
        return getattr(ids, node.attr)
    raise AssertionError(f"can't read a listener argument: {ast.unparse(node)}")


def registered(kind: str) -> set[str]:
    """What the Bolt app listens to: ``@app.event("pin_added")``, ``@app.shortcut(ids.X)``…"""
    found = set()
    for _, tree in _sources(PACKAGE / "slack"):
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "app"
                and node.func.attr == kind
                and node.args
            ):
                found.add(_value(node.args[0]))
    return found


# A ``message`` listener hears what these subscriptions bring: messages of public and private
# channels. Direct messages (message.im, message.mpim) would bring every reply people type to
# the bot's reminders, which it does not read.
MESSAGE_SUBSCRIPTIONS = ["message.channels", "message.groups"]


def subscribed_listeners(events: list[str]) -> list[str]:
    """The listener each subscription needs: ``message.*`` subscriptions all need ``message``."""
    return sorted({"message" if e.startswith("message.") else e for e in events})


def test_the_manifest_subscribes_to_exactly_the_events_the_app_listens_to():
    listened = registered("event")
    assert {"pin_added", "reaction_added", "member_joined_channel", "message"} <= listened
    for socket_mode in (False, True):
        manifest = build_manifest(Settings(), socket_mode=socket_mode)
        events = manifest["settings"]["event_subscriptions"]["bot_events"]
        assert subscribed_listeners(events) == sorted(listened)
        assert sorted(e for e in events if e.startswith("message.")) == MESSAGE_SUBSCRIPTIONS


def test_the_local_workspace_delivers_what_the_manifest_subscribes_to():
    """The local Slack workspace sends message events as the installed app subscribed."""
    events = build_manifest(Settings())["settings"]["event_subscriptions"]["bot_events"]
    assert Workspace().subscribed_events == set(events)


def test_the_manifest_declares_the_shortcuts_the_app_listens_to():
    message = registered("message_shortcut")
    everywhere = registered("shortcut") | registered("global_shortcut")
    declared = build_manifest(Settings()).get("features", {}).get("shortcuts", [])
    assert {s["callback_id"] for s in declared if s["type"] == "message"} == message
    assert {s["callback_id"] for s in declared if s["type"] == "global"} == everywhere


def test_the_home_tab_is_enabled_exactly_when_the_app_draws_it():
    home = build_manifest(Settings())["features"].get("app_home", {})
    assert home.get("home_tab_enabled", False) == ("app_home_opened" in registered("event"))


def test_the_messages_tab_shows_the_bots_direct_messages_read_only():
    """Reminders are direct messages: with the tab off, people would never see them."""
    home = build_manifest(Settings())["features"]["app_home"]
    assert home["messages_tab_enabled"] is True
    assert home["messages_tab_read_only_enabled"] is True


# --- scopes -----------------------------------------------------------------------------------


def any_of(*names: str) -> frozenset[str]:
    return frozenset(names)


# Bot-token scopes: the local workspace's table (incidentbot/emulator/scopes.py, from Slack's
# method reference), the same one that refuses the bot's calls in every end-to-end test. A
# requirement is a set of alternatives, any one of which allows the call. A conversations method
# needs one scope for each kind of conversation the bot uses it on: incidentbot works in public
# and private channels alike, so e.g. conversations.create needs channels:manage (public) and
# groups:write (private).
BOTH_READ = (any_of("channels:read"), any_of("groups:read"))
KINDS_USED: dict[str, tuple[str, ...]] = {
    # Also on the bot's direct messages: a retried reminder looks for its own earlier post
    # there (effects._post / _find_post) before posting again.
    "conversations.history": (scopes.PUBLIC, scopes.PRIVATE, scopes.IM),
    # Only ever a direct message with one person.
    "conversations.open": (scopes.IM,),
}
CHANNELS = (scopes.PUBLIC, scopes.PRIVATE)


def _method_scopes() -> dict[str, tuple[frozenset[str], ...]]:
    table = {
        method: (frozenset(requirement),) if requirement else ()
        for method, requirement in scopes.METHOD_SCOPES.items()
    }
    for method, by_kind in scopes.CONVERSATION_SCOPES.items():
        kinds = KINDS_USED.get(method, CHANNELS)
        table[method] = tuple(frozenset(by_kind[kind]) for kind in kinds)
    return table


METHOD_SCOPES = _method_scopes()

# Events are delivered only with these scopes (Slack's event reference); member events come
# for public channels with channels:read and for private ones with groups:read.
EVENT_SCOPES: dict[str, tuple[frozenset[str], ...]] = {
    "app_home_opened": (),
    "app_mention": (any_of("app_mentions:read"),),
    "channel_archive": (any_of("channels:read"),),
    "member_joined_channel": BOTH_READ,
    "member_left_channel": BOTH_READ,
    "message.channels": (any_of("channels:history"),),
    "message.groups": (any_of("groups:history"),),
    "pin_added": (any_of("pins:read"),),
    "pin_removed": (any_of("pins:read"),),
    "reaction_added": (any_of("reactions:read"),),
    "reaction_removed": (any_of("reactions:read"),),
}

# Slash commands and shortcuts both come with the ``commands`` scope.
FEATURE_SCOPES: dict[str, tuple[frozenset[str], ...]] = {
    "slash_commands": (any_of("commands"),),
    "shortcuts": (any_of("commands"),),
}


@cache
def webclient_methods() -> dict[str, frozenset[str]]:
    """``WebClient`` method name → the Web API methods it calls, read from slack_sdk's source.

    Most methods call ``self.api_call("chat.postMessage", ...)``; helpers such as
    ``files_upload_v2`` call other methods (files.getUploadURLExternal, then
    files.completeUploadExternal), followed here transitively.
    """
    tree = ast.parse(inspect.getsource(slack_web_client))
    (webclient,) = (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "WebClient")
    direct: dict[str, set[str]] = {}
    helpers: dict[str, set[str]] = {}
    for function in webclient.body:
        if not isinstance(function, ast.FunctionDef):
            continue
        direct[function.name], helpers[function.name] = set(), set()
        for node in ast.walk(function):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "self"
            ):
                continue
            if node.func.attr == "api_call":
                if node.args and isinstance(node.args[0], ast.Constant):
                    direct[function.name].add(node.args[0].value)
            else:
                helpers[function.name].add(node.func.attr)

    def resolve(name: str, seen: frozenset[str]) -> set[str]:
        methods = set(direct.get(name, ()))
        for helper in helpers.get(name, set()) - seen:
            methods |= resolve(helper, seen | {helper})
        return methods

    resolved = {name: frozenset(resolve(name, frozenset({name}))) for name in direct}
    return {name: methods for name, methods in resolved.items() if methods}


def _is_super(node: ast.expr) -> bool:
    """``super().api_call(api_method, ...)`` in a WebClient subclass passes calls through."""
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"
    )


def api_methods_in(tree: ast.AST, *, where: str = "<source>") -> set[str]:
    """The Web API methods a module calls: ``<anything>.chat_postMessage``, also when passed
    along uncalled; ``<anything>.api_call("x.y")`` (a subclass's ``super().api_call`` only
    passes calls on); and Bolt's ``say(...)`` (chat.postMessage)."""
    methods: set[str] = set()
    known = webclient_methods()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in known:
            methods |= known[node.attr]
        if isinstance(node, ast.Call):
            if (
                isinstance(node.func, ast.Attribute)
                and node.func.attr == "api_call"
                and not _is_super(node.func.value)
            ):
                method = node.args[0] if node.args else None
                for keyword in node.keywords:
                    if keyword.arg == "api_method":
                        method = keyword.value
                if not (isinstance(method, ast.Constant) and isinstance(method.value, str)):
                    raise AssertionError(
                        f"{where}:{node.lineno}: api_call with a method name that isn't a "
                        "literal; the scope check can't tell which method it is"
                    )
                methods.add(method.value)
            if isinstance(node.func, ast.Name) and node.func.id == "say":
                methods.add("chat.postMessage")
    return methods


@cache
def called_methods() -> dict[str, list[str]]:
    """Every Web API method the bot calls → where (``path:module``)."""
    where: dict[str, list[str]] = {}
    for path, tree in _sources():
        relative = str(path.relative_to(PACKAGE.parent))
        for method in api_methods_in(tree, where=relative):
            where.setdefault(method, []).append(relative)
    return where


def requirements(manifest: dict) -> list[tuple[str, frozenset[str]]]:
    """(why, alternatives) for every scope requirement of the calls, events and features."""
    needed = []
    for method in sorted(called_methods()):
        needed += [(f"method {method}", req) for req in METHOD_SCOPES.get(method, ())]
    for event in manifest["settings"]["event_subscriptions"]["bot_events"]:
        needed += [(f"event {event}", req) for req in EVENT_SCOPES.get(event, ())]
    for feature, reqs in FEATURE_SCOPES.items():
        if manifest["features"].get(feature):
            needed += [(f"feature {feature}", req) for req in reqs]
    return needed


def test_the_scanner_finds_web_api_calls_however_they_are_written():
    source = """
def work(client, deps, say):
    client.chat_postMessage(channel="C1", text="hi")
    self._client.conversations_setTopic(channel="C1", topic="t")
    deps.interactive_client.views_open(trigger_id="t", view={})
    client.api_call("bookmarks.add", params={})
    client.api_call(api_method="pins.add")
    client.files_upload_v2(channel="C1", content="x")
    later = client.conversations_open
    say("hello")
    super().api_call(api_method, **kwargs)
    other.update(text="not Slack")
"""
    assert api_methods_in(ast.parse(source)) == {
        "chat.postMessage",
        "conversations.setTopic",
        "views.open",
        "bookmarks.add",
        "pins.add",
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
        "conversations.open",
    }
    with pytest.raises(AssertionError, match="literal"):
        api_methods_in(ast.parse("client.api_call(name)"))


def test_the_scan_reads_the_bots_own_calls():
    called = called_methods()
    for method in (
        "chat.postMessage",
        "conversations.create",
        "conversations.invite",
        "pins.add",
        "users.info",
        "views.open",
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ):
        assert method in called, f"the scan missed {method}: found {sorted(called)}"
    assert not any("emulator" in place for places in called.values() for place in places), (
        "the local workspace's own code is not the bot's"
    )


def missing_scopes(manifest: dict) -> list[str]:
    """Each requirement of a call, event or feature that no declared scope meets."""
    declared = set(manifest["oauth_config"]["scopes"]["bot"])
    places = called_methods()
    return [
        f"{why} needs one of {sorted(alternatives)}"
        + (f" (called in {', '.join(places[why[7:]])})" if why.startswith("method ") else "")
        for why, alternatives in requirements(manifest)
        if not alternatives & declared
    ]


def unneeded_scopes(manifest: dict) -> list[str]:
    """Declared scopes that no met requirement depends on: the set is not the smallest."""
    declared = manifest["oauth_config"]["scopes"]["bot"]
    met = [
        alternatives for _, alternatives in requirements(manifest) if alternatives & set(declared)
    ]
    return [
        scope
        for scope in declared
        if all(alternatives & (set(declared) - {scope}) for alternatives in met)
    ]


def test_every_web_api_method_the_bot_calls_has_a_scope_entry():
    unknown = {m: places for m, places in called_methods().items() if m not in METHOD_SCOPES}
    assert not unknown, (
        "Web API methods without an entry in METHOD_SCOPES (add the bot scopes from Slack's "
        f"method reference): {unknown}"
    )


def test_every_event_the_manifest_subscribes_to_has_a_scope_entry():
    events = build_manifest(Settings())["settings"]["event_subscriptions"]["bot_events"]
    assert [event for event in events if event not in EVENT_SCOPES] == []


def test_every_call_event_and_feature_is_allowed_by_a_declared_scope():
    missing = missing_scopes(build_manifest(Settings()))
    assert not missing, "scopes missing from incidentbot/slack/manifest.py:\n" + "\n".join(missing)


def test_no_declared_scope_is_unneeded():
    manifest = build_manifest(Settings())
    declared = manifest["oauth_config"]["scopes"]["bot"]
    assert len(declared) == len(set(declared)), "a scope is declared twice"
    unneeded = unneeded_scopes(manifest)
    assert not unneeded, f"declared, yet no call, event or feature needs them: {unneeded}"


def test_the_scope_checks_fail_on_a_missing_or_an_extra_scope():
    manifest = build_manifest(Settings())
    scopes = manifest["oauth_config"]["scopes"]["bot"]

    manifest["oauth_config"]["scopes"]["bot"] = [s for s in scopes if s != "groups:write"]
    missing = missing_scopes(manifest)
    assert any(line.startswith("method conversations.create needs one of") for line in missing)
    assert any("incidentbot/slack/effects.py" in line for line in missing)

    manifest["oauth_config"]["scopes"]["bot"] = [s for s in scopes if s != "pins:read"]
    assert "event pin_added needs one of ['pins:read']" in missing_scopes(manifest)

    manifest["oauth_config"]["scopes"]["bot"] = [s for s in scopes if s != "groups:history"]
    assert "event message.groups needs one of ['groups:history']" in missing_scopes(manifest)

    manifest["oauth_config"]["scopes"]["bot"] = [s for s in scopes if s != "commands"]
    assert "feature slash_commands needs one of ['commands']" in missing_scopes(manifest)

    manifest["oauth_config"]["scopes"]["bot"] = [*scopes, "reactions:write", "channels:write.topic"]
    assert unneeded_scopes(manifest)[-2:] == ["reactions:write", "channels:write.topic"]
