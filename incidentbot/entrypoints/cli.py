"""The ``incidentbot`` command: a thin entry point over the runtime."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from incidentbot.infra.config import ConfigError, load_settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from incidentbot.postmortem.review_document import DocumentFlag


def _serve(args: argparse.Namespace) -> int:
    # The settings first: a setting to fix is reported before the Slack, web and database
    # layers have taken most of a second to import.
    settings = load_settings()
    settings.require("slack_bot_token", "slack_signing_secret")
    import waitress

    from incidentbot.slack.runtime import create_runtime
    from incidentbot.web import create_web_app

    runtime = create_runtime(settings)
    runtime.start()
    runtime.warm_up()
    try:
        waitress.serve(
            create_web_app(runtime),
            host=args.host,
            port=args.port,
            threads=args.threads,
            ident="incidentbot",
        )
    finally:
        runtime.stop()
    return 0


def _socket(args: argparse.Namespace) -> int:
    settings = load_settings()  # first, as in _serve
    settings.require("slack_bot_token", "slack_app_token")
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk.errors import SlackApiError

    from incidentbot.slack.runtime import create_runtime

    runtime = create_runtime(settings)
    runtime.start()
    runtime.warm_up()
    try:
        SocketModeHandler(runtime.bolt, settings.slack_app_token).start()
    except SlackApiError as error:
        code = error.response.get("error")
        if code not in APP_TOKEN_REFUSALS:
            raise
        # Slack said no to the token itself: a setting to fix, in one line, not a traceback.
        raise ConfigError(
            f"SLACK_APP_TOKEN was refused by Slack ({code}): expected an app-level token "
            "(xapp-…) of this app with the connections:write scope, from the app's Basic "
            "Information page."
        ) from None
    finally:
        runtime.stop()
    return 0


# What apps.connections.open answers for an app token it will not take.
APP_TOKEN_REFUSALS = {
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "token_expired",
    "account_inactive",
    "not_allowed_token_type",
    "missing_scope",
}


def _demo(args: argparse.Namespace) -> int:
    from incidentbot.entrypoints.demo import run_demo

    return run_demo(out=Path(args.out) if args.out else None)


def _playground(args: argparse.Namespace) -> int:
    import signal

    from incidentbot.playground import Playground

    playground = Playground(
        state_dir=Path(args.state_dir),
        host=args.host,
        port=args.port,
        reset=args.reset,
        templates_dir=Path(args.template_dir) if args.template_dir else None,
    )
    playground.start()
    try:
        signal.signal(signal.SIGTERM, lambda *_: playground.request_stop())
        drill = "continuing the drill saved" if playground.resumed else "a new drill, saved"
        print(f"incidentbot playground: {playground.url}", flush=True)
        print(f"  {drill} in {args.state_dir} (--reset starts clean). Ctrl-C stops.", flush=True)
        playground.wait()
    except KeyboardInterrupt:
        pass
    finally:
        playground.stop()
        print("Playground stopped; the drill is saved.", flush=True)
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from incidentbot.infra import db

    engine = db.make_engine(load_settings().database_url)
    db.upgrade(engine)
    print("Database is at the newest revision.")
    return 0


def _render(args: argparse.Namespace) -> int:
    from incidentbot import services
    from incidentbot.domain import blameless
    from incidentbot.domain.models import utcnow
    from incidentbot.infra import db
    from incidentbot.infra.uow import UnitOfWork
    from incidentbot.postmortem.render import PostmortemRenderer
    from incidentbot.services.postmortems import mentioned_people, review_incident

    settings = load_settings()
    engine = db.make_engine(settings.database_url)
    db.upgrade(engine)
    renderer = PostmortemRenderer(
        zone=settings.timezone, base_url=settings.base_url, templates_dir=settings.templates_dir
    )
    with UnitOfWork(db.make_session_factory(engine)) as uow:
        incident = services.get_incident(uow=uow, number=args.number)
        if args.version is not None:
            stored = services.latest_postmortem(incident=incident, version=args.version)
            sys.stdout.write(stored.markdown if args.format == "md" else stored.html)
            return 0
        timeline = services.read_timeline(uow=uow, incident=incident)
        people = services.people_by_id(
            uow=uow, user_ids=mentioned_people(incident, timeline=timeline)
        )
        review = review_incident(
            uow=uow,
            incident=incident,
            timeline=timeline,
            people=people,
            zone=settings.timezone,
            rules=blameless.load_rules(extra=settings.blameless_rules),
        )
        sys.stdout.write(
            renderer.render(
                incident=incident,
                people=people,
                fmt=args.format,
                template=args.template,
                now=utcnow(),
                review=review,
                timeline=timeline,
                edited=services.edited_entry_ids(uow=uow, incident_id=incident.id),
            )
        )
    return 0


def _templates_check(args: argparse.Namespace) -> int:
    from incidentbot.postmortem.render import PostmortemRenderer

    settings = load_settings()
    renderer = PostmortemRenderer(
        zone=settings.timezone, base_url=settings.base_url, templates_dir=settings.templates_dir
    )
    renderer.check(required=set(settings.severity_templates.values()))
    print(f"Postmortem templates are fine: {', '.join(renderer.available_templates())}.")
    return 0


def _review(args: argparse.Namespace) -> int:
    """Reviews Markdown or text files (or standard input) for blame and hindsight language.

    Flags go to standard output, one block each, as ``path:line:column: “phrase” (rule-id)``
    then indented ``why:`` and ``suggestion:`` lines, so editors and CI can jump to them; the
    summary goes to standard error, so standard output holds only the flags (or, with
    ``--json``, one JSON object). Exit 1 when anything is flagged, 0 when clean, 2 when a file
    or the rules cannot be read. Needs no Slack token and no database.
    """
    import os

    from incidentbot.domain import blameless
    from incidentbot.domain.errors import IncidentError
    from incidentbot.infra.config import read_dotenv
    from incidentbot.postmortem.review_document import review_document

    rules_file = args.rules
    origin = ""
    if rules_file is None:
        setting = os.environ.get("INCIDENTBOT_BLAMELESS_RULES")
        if setting is None:
            setting = read_dotenv(Path(".env")).get("INCIDENTBOT_BLAMELESS_RULES")
        rules_file = setting.strip() if setting and setting.strip() else None
        origin = " (INCIDENTBOT_BLAMELESS_RULES)"
    try:
        rules = blameless.load_rules(extra=Path(rules_file) if rules_file else None)
    except IncidentError as error:
        print(f"incidentbot review: {error.message}{origin}", file=sys.stderr)
        return 2

    documents: list[tuple[str, str]] = []
    unreadable = False
    for name in args.files or ["-"]:
        label = "<stdin>" if name == "-" else name
        try:
            data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
            documents.append((label, data.decode("utf-8-sig")))
        except OSError as error:
            print(f"incidentbot review: {label}: {error.strerror or error}", file=sys.stderr)
            unreadable = True
        except UnicodeDecodeError as error:
            print(
                f"incidentbot review: {label}: not UTF-8 text "
                f"(byte 0x{data[error.start]:02x} at offset {error.start})",
                file=sys.stderr,
            )
            unreadable = True
    if unreadable:
        return 2

    found = [
        (label, item)
        for label, text in documents
        for item in review_document(text, rules=rules, names=args.name)
    ]
    try:
        _print_review(found, as_json=args.json)
    except BrokenPipeError:
        # `incidentbot review … | head` closed the pipe: the exit status still tells.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1 if found else 0
    if args.json:
        return 1 if found else 0
    if not found:
        print("No blame or hindsight language found.", file=sys.stderr)
        return 0
    files = len({label for label, _ in found})
    phrases = "phrase" if len(found) == 1 else "phrases"
    print(
        f"{len(found)} {phrases} flagged in {files} file{'' if files == 1 else 's'}.",
        file=sys.stderr,
    )
    return 1


def _print_review(found: list[tuple[str, DocumentFlag]], *, as_json: bool) -> None:
    """The flags on standard output: one JSON object, or a path:line:column block each."""
    import json

    if as_json:
        flags = [
            {
                "file": label,
                "line": item.line,
                "column": item.column,
                "phrase": item.flag.phrase,
                "rule": item.flag.rule_id,
                "category": item.flag.category,
                "why": item.flag.why,
                "suggestion": item.flag.suggestion,
                "excerpt": item.flag.excerpt,
            }
            for label, item in found
        ]
        json.dump({"flags": flags}, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        sys.stdout.flush()
        return
    for label, item in found:
        print(f"{label}:{item.line}:{item.column}: “{item.flag.phrase}” ({item.flag.rule_id})")
        print(f"    why: {item.flag.why}")
        print(f"    suggestion: {item.flag.suggestion}")
    sys.stdout.flush()


def _manifest(args: argparse.Namespace) -> int:
    import yaml

    from incidentbot.slack.manifest import build_manifest

    manifest = build_manifest(load_settings(), socket_mode=args.socket_mode)
    sys.stdout.write(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="incidentbot", description="Incident response and blameless postmortems in Slack."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve Slack's HTTP requests and the web pages")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--threads", type=int, default=16, help="request threads (default 16)")
    serve.set_defaults(run=_serve)

    socket = commands.add_parser("socket", help="connect to Slack with Socket Mode")
    socket.set_defaults(run=_socket)

    demo = commands.add_parser("demo", help="play a whole incident against a local Slack")
    demo.add_argument("--out", help="folder for the postmortem (default: ./demo)")
    demo.set_defaults(run=_demo)

    playground = commands.add_parser(
        "playground", help="try the bot in a browser, against a local Slack workspace"
    )
    playground.add_argument("--host", default="127.0.0.1", help="address of the page")
    playground.add_argument(
        "--port", type=int, default=3100, help="port of the page (default 3100; 0 picks one)"
    )
    playground.add_argument("--reset", action="store_true", help="forget the saved drill")
    playground.add_argument(
        "--template-dir", help="a team's postmortem templates (INCIDENTBOT_TEMPLATES_DIR)"
    )
    playground.add_argument(
        "--state-dir", default=".playground", help="where the drill is saved (./.playground)"
    )
    playground.set_defaults(run=_playground)

    database = commands.add_parser("db", help="database maintenance")
    db_commands = database.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply migrations").set_defaults(run=_db_upgrade)

    postmortem = commands.add_parser("postmortem", help="postmortems")
    pm_commands = postmortem.add_subparsers(dest="pm_command", required=True, metavar="ACTION")
    render = pm_commands.add_parser("render", help="print incident N's postmortem")
    render.add_argument("number", type=int)
    render.add_argument("--format", choices=["md", "html"], default="md")
    render.add_argument("--template", default="default")
    render.add_argument(
        "--version", type=int, help="print stored version K as generated (default: render now)"
    )
    render.set_defaults(run=_render)

    templates = commands.add_parser("templates", help="postmortem templates")
    template_commands = templates.add_subparsers(
        dest="templates_command", required=True, metavar="ACTION"
    )
    template_commands.add_parser(
        "check", help="render every template against sample incidents, in the sandbox"
    ).set_defaults(run=_templates_check)

    review = commands.add_parser(
        "review",
        help="review Markdown or text files for blame and hindsight language (no Slack needed)",
        description="Flag blame and hindsight language in Markdown or text files, as the bot "
        "does in the postmortems it drafts. Exit status: 1 if anything is flagged, 0 if not, "
        "2 if a file or the rules cannot be read.",
    )
    review.add_argument(
        "files", nargs="*", metavar="FILE", help="files to review; none or - reads standard input"
    )
    review.add_argument("--json", action="store_true", help="print one JSON object of flags")
    review.add_argument(
        "--name",
        action="append",
        default=[],
        metavar="NAME",
        help="a person's name, so the rules about people recognise it (repeatable)",
    )
    review.add_argument(
        "--rules",
        metavar="FILE",
        help="a team's rules file (default: INCIDENTBOT_BLAMELESS_RULES, if set)",
    )
    review.set_defaults(run=_review)

    manifest = commands.add_parser("manifest", help="print the Slack app manifest (YAML)")
    manifest.add_argument(
        "--socket-mode", action="store_true", help="for Socket Mode instead of HTTP"
    )
    manifest.set_defaults(run=_manifest)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from incidentbot.infra.logs import configure_logging

    try:
        log_format = load_settings().log_format
    except ConfigError:
        log_format = "text"  # the command itself reports the setting, in one line
    configure_logging(log_format)
    # Migrations announce every plugin at INFO; what they did is enough.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.command in ("demo", "playground"):
        # The demo's output is the story, the playground's is its page; only trouble should
        # interrupt them.
        logging.getLogger().setLevel(logging.WARNING)
    from sqlalchemy.exc import OperationalError

    from incidentbot.domain.errors import IncidentError

    try:
        # Each subcommand's parser sets run (set_defaults above) to a function of the arguments.
        run: Callable[[argparse.Namespace], int] = args.run
        return run(args)
    except ConfigError as error:
        print(f"incidentbot: {error.message}", file=sys.stderr)
        return 2
    except IncidentError as error:
        print(f"incidentbot: {error.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except OperationalError as error:
        # The driver's own first line says why (host, refused, timed out), never a password.
        reason = str(error.orig or error).strip().splitlines()[0][:300]
        print(f"incidentbot: cannot reach the database (DATABASE_URL): {reason}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
