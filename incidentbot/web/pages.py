"""The incident pages: the list, one incident, its postmortem versions and their changes,
and insights across incidents. Not public: see ``incidentbot.domain.links`` for who gets in."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, abort, g, make_response, redirect, render_template, request
from markupsafe import Markup

from incidentbot import services
from incidentbot.domain import links
from incidentbot.domain.errors import IncidentError
from incidentbot.domain.metrics import DEFINITIONS, LABELS, compute_metrics, humanize
from incidentbot.domain.models import (
    EntryKind,
    Incident,
    RevisionChange,
    Severity,
    Status,
    TimelineEntry,
    TimelineRevision,
)
from incidentbot.domain.text import mention_to_plain, parse_user_mentions
from incidentbot.domain.timeparse import format_moment
from incidentbot.postmortem.render import backdated
from incidentbot.services.people import people_by_id, people_in
from incidentbot.services.postmortems import mentioned_people
from incidentbot.slack.runtime import Runtime

SECURITY_HEADERS = {
    # No script may run on these pages; styles come from our stylesheet and the postmortem's own.
    "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


# A title search longer than any title could be is cut here.
MAX_QUERY = 300


def _page_number(text: str | None) -> int:
    """``?page=N`` as people (and hand-edited addresses) give it: anything odd is page 1."""
    if text is None or not text.isdigit() or len(text) > 6:
        return 1
    return max(int(text), 1)


def register(app: Flask, runtime: Runtime) -> None:
    settings = runtime.settings
    secret = settings.link_secret

    @app.after_request
    def secure(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def check(token: str | None) -> links.Viewer | None:
        if not token:
            return None
        return links.check_token(token, secret=secret, shared_token=settings.web_token)

    def viewer_required(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = request.args.get("token")
            if token is not None:
                viewer = check(token)
                if viewer is None:
                    return _unauthorized()
                # Drop the token from the address bar; the cookie carries it from now on. A
                # person's token is kept over an incident's, which shows less.
                current = check(request.cookies.get(links.COOKIE))
                rest = urlencode(
                    [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
                )
                response = redirect(request.path + (f"?{rest}" if rest else ""), code=303)
                if viewer.is_person or current is None or not current.is_person:
                    response.set_cookie(
                        links.COOKIE,
                        token,
                        max_age=links.DEFAULT_LIFETIME,
                        httponly=True,
                        samesite="Lax",
                        secure=settings.base_url.startswith("https://"),
                    )
                return response
            viewer = check(request.cookies.get(links.COOKIE))
            if viewer is None:
                return _unauthorized()
            g.viewer = viewer
            return view(*args, **kwargs)

        return wrapper

    def _unauthorized() -> tuple[str, int]:
        return render_template("unauthorized.html", command=settings.command), 401

    def moment(value: Any) -> str:
        return format_moment(value, settings.timezone) if value else "—"

    app.jinja_env.filters["moment"] = moment

    def visible(uow: Any, incident: Incident) -> bool:
        viewer: links.Viewer = g.viewer
        member = viewer.user_id is not None and services.can_see(
            uow=uow, incident=incident, user_id=viewer.user_id
        )
        return viewer.may_view(number=incident.number, private=incident.private, member=member)

    def visible_incident(uow: Any, number: int) -> Incident:
        """Incident ``number`` if this viewer may see it; else 404, the same answer as for a
        number that does not exist. One look-up: nothing of its record is read yet."""
        try:
            incident = services.get_incident(uow=uow, number=number)
        except IncidentError:
            abort(404)
        if not visible(uow, incident):
            abort(404)
        return incident

    @app.get("/")
    @viewer_required
    def index() -> str:
        query = request.args.get("q", "").strip()[:MAX_QUERY]
        status = request.args.get("status", "")
        severity = request.args.get("severity", "")
        status = status if status in {s.value for s in Status} else ""
        severity = severity if severity in {s.value for s in Severity} else ""
        viewer: links.Viewer = g.viewer
        with runtime.uow(read_only=True) as uow:
            listed = services.incident_page(
                uow=uow,
                user_id=viewer.user_id,
                page=_page_number(request.args.get("page")),
                title_contains=query,
                status=status,
                severity=severity,
                number=viewer.incident_number,
            )
            now = uow.now()
        incidents = list(listed.items)
        names = _names(incidents)
        rows = []
        for incident in incidents:
            lead = incident.holder("lead")
            # Only the impact duration is shown, which needs none of the timeline.
            metrics = compute_metrics(incident, now=now, timeline=())
            rows.append(
                {
                    "number": incident.number,
                    "title": incident.title,
                    "severity": incident.severity,
                    "status": incident.status,
                    "lead": names.get(lead, lead) if lead else "—",
                    "declared": moment(incident.declared_at),
                    "duration": humanize(metrics.duration),
                }
            )
        filters = [
            (k, v) for k, v in (("q", query), ("status", status), ("severity", severity)) if v
        ]

        def page_url(number: int) -> str:
            return "/?" + urlencode([*filters, ("page", str(number))])

        return render_template(
            "index.html",
            rows=rows,
            listed=listed,
            newer_url=page_url(listed.page - 1) if listed.page > 1 else None,
            older_url=page_url(listed.page + 1) if listed.page < listed.pages else None,
            duration_label=LABELS["duration"],
            duration_definition=DEFINITIONS["duration"],
            query=query,
            status=status,
            severity=severity,
            statuses=[s.value for s in Status],
            severities=[s.value for s in Severity],
            zone=settings.timezone,
        )

    def _names(incidents: list[Incident]) -> dict[str, str]:
        ids = {lead for i in incidents if (lead := i.holder("lead")) is not None}
        with runtime.uow(read_only=True) as uow:
            people = people_by_id(uow=uow, user_ids=ids)
        return {user_id: person.display_name for user_id, person in people.items()}

    @app.get("/incidents/<int:number>")
    @viewer_required
    def incident_page(number: int) -> str:
        from incidentbot.web.charts import timeline_svg

        with runtime.uow(read_only=True) as uow:
            incident = visible_incident(uow, number)
            _ = incident.roles, incident.action_items, incident.postmortems
            listed = services.entry_page(
                uow=uow, incident=incident, page=_page_number(request.args.get("page"))
            )
            entries_shown = list(listed.items)
            # The picture covers the whole timeline, as rows; the table, one page of entries.
            overview = services.read_timeline(uow=uow, incident=incident)
            corrections = services.revisions(
                uow=uow, incident_id=incident.id, entry_ids=[e.id for e in entries_shown]
            )
            wanted = (
                people_in(incident, timeline=overview)
                | mentioned_people(incident, timeline=entries_shown)
                | _people_in_corrections(entries_shown, corrections)
            )
            names = {
                user_id: person.display_name
                for user_id, person in people_by_id(uow=uow, user_ids=wanted).items()
            }
            entries = _entry_rows(entries_shown, corrections, names=names, moment=moment)
            now = uow.now()
            reduced = services.metric_timelines(uow=uow, incident_ids=[incident.id])
            declaration = next(
                (entry for entry in reduced[incident.id] if entry.kind == EntryKind.DECLARED),
                None,
            )
        metrics = compute_metrics(incident, now=now, timeline=reduced[incident.id])

        def page_url(page: int) -> str:
            return f"/incidents/{number}?page={page}#timeline"

        return render_template(
            "incident.html",
            incident=incident,
            name=lambda user_id: names.get(user_id, user_id) if user_id else "—",
            plain=lambda text: mention_to_plain(text, names),
            zone=settings.timezone,
            entries=entries,
            listed=listed,
            page_urls={
                "first": page_url(1) if listed.page > 1 else None,
                "earlier": page_url(listed.page - 1) if listed.page > 1 else None,
                "later": page_url(listed.page + 1) if listed.page < listed.pages else None,
                "latest": page_url(listed.pages) if listed.page < listed.pages else None,
            },
            detected_at=(
                incident.detected_at if incident.detected_at != incident.declared_at else None
            ),
            recorded_at=(
                declaration.recorded_at
                if incident.after_the_fact and declaration is not None
                else None
            ),
            # A role still held when the incident closed was held until the close.
            roles_end=incident.closed_at if incident.status == Status.CLOSED else None,
            duration=humanize(metrics.duration),
            duration_label=LABELS["duration"],
            duration_definition=DEFINITIONS["duration"],
            timeline_svg=timeline_svg(
                incident, zone=settings.timezone, names=names, now=now, timeline=overview
            ),
        )

    def with_postmortems(number: int) -> Incident:
        """Incident ``number`` with its postmortem versions and nothing else of its record:
        a missing postmortem costs a look-up, however long the timeline."""
        with runtime.uow(read_only=True) as uow:
            incident = visible_incident(uow, number)
            _ = incident.postmortems
            return incident

    def postmortem_version(incident: Incident) -> Any:
        try:
            return services.latest_postmortem(
                incident=incident, version=request.args.get("version", type=int)
            )
        except IncidentError as error:
            abort(make_response(render_template("message.html", message=error.message), 404))

    @app.get("/incidents/<int:number>/postmortem")
    @viewer_required
    def postmortem_page(number: int) -> str:
        incident = with_postmortems(number)
        postmortem = postmortem_version(incident)
        styles, body = _embeddable(postmortem.html)
        return render_template(
            "postmortem.html",
            number=number,
            postmortem=postmortem,
            latest=incident.postmortems[-1].version,
            styles=styles,
            body=body,
        )

    @app.get("/incidents/<int:number>/postmortem.md")
    @viewer_required
    def postmortem_markdown(number: int) -> Response:
        incident = with_postmortems(number)
        postmortem = postmortem_version(incident)
        response = make_response(postmortem.markdown)
        response.headers["Content-Type"] = "text/markdown; charset=utf-8"
        response.headers["Content-Disposition"] = (
            f'attachment; filename="INC-{number}-postmortem-v{postmortem.version}.md"'
        )
        return response

    @app.get("/incidents/<int:number>/postmortem/diff")
    @viewer_required
    def postmortem_diff(number: int) -> str:
        incident = with_postmortems(number)
        old_version = request.args.get("from", type=int)
        new_version = request.args.get("to", type=int)
        try:
            old = services.latest_postmortem(incident=incident, version=old_version)
            new = services.latest_postmortem(incident=incident, version=new_version)
        except IncidentError as error:
            abort(make_response(render_template("message.html", message=error.message), 404))
        lines = []
        for line in difflib.unified_diff(
            old.markdown.splitlines(), new.markdown.splitlines(), lineterm="", n=2
        ):
            if line.startswith(("---", "+++")):
                continue
            kind = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "same")
            lines.append((kind, line))
        return render_template(
            "diff.html", number=number, old=old.version, new=new.version, lines=lines
        )

    @app.get("/insights")
    @viewer_required
    def insights_page() -> str:
        from incidentbot.web.insights_page import SPAN, render_insights

        viewer: links.Viewer = g.viewer
        with runtime.uow(read_only=True) as uow:
            now = uow.now()
            incidents = services.incidents_declared(
                uow=uow,
                user_id=viewer.user_id,
                since=now - SPAN,
                until=now,
                number=viewer.incident_number,
            )
            timelines = services.metric_timelines(
                uow=uow, incident_ids=[incident.id for incident in incidents]
            )
        return render_insights(incidents=incidents, timelines=timelines, settings=settings, now=now)


@dataclass(frozen=True)
class Correction:
    """One revision of a timeline entry, as the incident page shows it."""

    when: str
    who: str
    change: str
    old: str | None
    new: str | None
    reason: str | None


@dataclass(frozen=True)
class EntryRow:
    """One timeline entry on the incident page, with its history: nothing is hidden here."""

    id: int
    number: int | None
    when: str
    recorded: str | None
    author: str
    kind: str
    text: str
    permalink: str | None
    # The deletion in force, if the entry is deleted.
    deleted: Correction | None
    deleted_in_slack: bool
    history: list[Correction]


def _people_in_corrections(
    timeline: Sequence[TimelineEntry], corrections: Mapping[int, Sequence[TimelineRevision]]
) -> set[str]:
    """Who corrected or deleted entries, and whom their old and new texts mention."""
    ids = {entry.deleted_by for entry in timeline if entry.deleted_by}
    for revisions in corrections.values():
        for revision in revisions:
            if revision.revised_by:
                ids.add(revision.revised_by)
            for text in (revision.old_text, revision.new_text):
                ids.update(parse_user_mentions(text or ""))
    return ids


def _entry_rows(
    timeline: Sequence[TimelineEntry],
    corrections: Mapping[int, Sequence[TimelineRevision]],
    *,
    names: Mapping[str, str],
    moment: Callable[[Any], str],
) -> list[EntryRow]:
    """Every entry, deleted ones included, each with what was changed, by whom and when."""

    def person(user_id: str | None) -> str:
        return names.get(user_id, user_id) if user_id else "—"

    def shown(revision: TimelineRevision) -> Correction:
        old: str | None
        new: str | None
        if revision.change == RevisionChange.TIME:
            old, new = moment(revision.old_occurred_at), moment(revision.new_occurred_at)
        else:
            old = mention_to_plain(revision.old_text, names) if revision.old_text else None
            new = mention_to_plain(revision.new_text, names) if revision.new_text else None
        who = person(revision.revised_by) if revision.revised_by else "Slack"
        if revision.revised_by and revision.source == "slack":
            who += " in Slack"
        return Correction(
            when=moment(revision.revised_at),
            who=who,
            change=str(revision.change),
            old=old,
            new=new,
            reason=revision.reason,
        )

    rows = []
    for entry in timeline:
        revisions = list(corrections.get(entry.id, ()))
        deleted = None
        if entry.deleted_at is not None:
            # The deletion in force is the last; an earlier one was undone and stays in history.
            deletion = next(
                (r for r in reversed(revisions) if r.change == RevisionChange.DELETE), None
            )
            if deletion is not None:
                revisions.remove(deletion)
                deleted = shown(deletion)
            else:
                deleted = Correction(
                    when=moment(entry.deleted_at),
                    who=person(entry.deleted_by) if entry.deleted_by else "Slack",
                    change=str(RevisionChange.DELETE),
                    old=None,
                    new=None,
                    reason=None,
                )
        rows.append(
            EntryRow(
                id=entry.id,
                number=entry.number,
                when=moment(entry.occurred_at),
                recorded=(
                    moment(entry.recorded_at)
                    if backdated(entry.occurred_at, entry.recorded_at)
                    else None
                ),
                author=person(entry.source_author_id or entry.author_id),
                kind=entry.kind,
                text=mention_to_plain(entry.text, names),
                permalink=entry.permalink,
                deleted=deleted,
                # Slack says a message was deleted, not who deleted it.
                deleted_in_slack=entry.deleted_at is not None and entry.deleted_by is None,
                history=[shown(revision) for revision in revisions],
            )
        )
    return rows


_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", flags=re.DOTALL | re.IGNORECASE)
_BODY = re.compile(r"<body[^>]*>(.*)</body>", flags=re.DOTALL | re.IGNORECASE)


def _embeddable(document: str) -> tuple[list[Markup], Markup]:
    """The stored postmortem HTML document's styles and body, to show inside our page.

    The document is our own rendering (user text escaped by autoescape), so it is trusted HTML.
    """
    styles = [Markup(css) for css in _STYLE.findall(document)]
    body = _BODY.search(document)
    return styles, Markup(body.group(1) if body else document)
