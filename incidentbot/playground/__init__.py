"""``incidentbot playground``: try the bot in a browser, with no Slack workspace.

It starts the local Slack workspace (``incidentbot.emulator``), the bot on its real HTTP
endpoint (``LocalStack``, SQLite in the state folder) and a web page that looks and behaves
enough like Slack to run a drill: channels, Block Kit messages, a composer for ``/incident``
commands and plain messages as a chosen person, pins, :pushpin: reactions, the message shortcut,
modals, ephemeral replies, the App Home tab and uploaded files.

The page drives the bot only through ``SlackDriver``: the same signed HTTP requests Slack would
send. ``session.py`` runs and saves a session, ``app.py`` is the page's JSON API, ``screen.py``
and ``render.py`` turn the workspace into what a person sees, ``static/`` is the page itself.
"""

from .session import DEFAULT_PORT, DEFAULT_STATE_DIR, Playground, PlaygroundError

__all__ = ["DEFAULT_PORT", "DEFAULT_STATE_DIR", "Playground", "PlaygroundError"]
