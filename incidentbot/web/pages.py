"""The incident pages: a list, one incident, and its postmortem versions."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, Response, abort, g, make_response, redirect, render_template, request

from incidentbot import links, services
from incidentbot.errors import IncidentError
from incidentbot.models import Incident
from incidentbot.runtime import Runtime
from incidentbot.services.people import people_by_id
from incidentbot.services.postmortems import mentioned_people
from incidentbot.text import mention_to_plain
from incidentbot.timeparse import format_moment

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def register(app: Flask, runtime: Runtime) -> None:
    settings = runtime.settings
    secret = settings.link_secret

    @app.after_request
    def secure(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def viewer_required(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = request.args.get("token")
            if token:
                viewer = links.check_token(token, secret=secret)
                if viewer is None:
                    return _unauthorized()
                # Drop the token from the address bar; the cookie carries it from now on.
                response = redirect(request.path, code=303)
                response.set_cookie(
                    links.COOKIE,
                    token,
                    max_age=links.DEFAULT_LIFETIME,
                    httponly=True,
                    samesite="Lax",
                    secure=settings.base_url.startswith("https://"),
                )
                return response
            cookie = request.cookies.get(links.COOKIE)
            viewer = links.check_token(cookie, secret=secret) if cookie else None
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

    def load(number: int) -> tuple[Incident, dict[str, str]]:
        with runtime.uow() as uow:
            try:
                incident = services.get_incident(uow=uow, number=number)
            except IncidentError:
                abort(404)
            if not services.can_see(uow=uow, incident=incident, user_id=g.viewer.user_id):
                abort(404)  # the same answer as for a number that does not exist
            _ = incident.timeline, incident.roles, incident.action_items, incident.postmortems
            people = people_by_id(uow=uow, user_ids=mentioned_people(incident))
            names = {user_id: person.display_name for user_id, person in people.items()}
            return incident, names

    @app.get("/")
    @viewer_required
    def index() -> str:
        with runtime.uow() as uow:
            incidents = services.incidents_visible_to(uow=uow, user_id=g.viewer.user_id)
        return render_template("index.html", incidents=incidents, zone=settings.timezone)

    @app.get("/incidents/<int:number>")
    @viewer_required
    def incident_page(number: int) -> str:
        incident, names = load(number)
        return render_template(
            "incident.html",
            incident=incident,
            name=lambda user_id: names.get(user_id, user_id) if user_id else "—",
            plain=lambda text: mention_to_plain(text, names),
            zone=settings.timezone,
        )

    @app.get("/incidents/<int:number>/postmortem")
    @viewer_required
    def postmortem_page(number: int) -> Response | tuple[str, int]:
        incident, _ = load(number)
        try:
            postmortem = services.latest_postmortem(
                incident=incident, version=request.args.get("version", type=int)
            )
        except IncidentError as error:
            return render_template("message.html", message=error.message), 404
        response = make_response(postmortem.html)
        response.headers["Content-Type"] = "text/html; charset=utf-8"
        return response

    @app.get("/incidents/<int:number>/postmortem.md")
    @viewer_required
    def postmortem_markdown(number: int) -> Response | tuple[str, int]:
        incident, _ = load(number)
        try:
            postmortem = services.latest_postmortem(
                incident=incident, version=request.args.get("version", type=int)
            )
        except IncidentError as error:
            return render_template("message.html", message=error.message), 404
        response = make_response(postmortem.markdown)
        response.headers["Content-Type"] = "text/markdown; charset=utf-8"
        response.headers["Content-Disposition"] = (
            f'attachment; filename="INC-{number}-postmortem-v{postmortem.version}.md"'
        )
        return response
