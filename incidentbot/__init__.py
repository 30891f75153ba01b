"""incidentbot: incident response and blameless postmortems in Slack.

The package is in layers; each imports only from the layers above it in this list:

- ``domain``: the record's classes (``models``) and the rules of the field: parsing times,
  incident metrics, the blameless review, channel names, Slack-safe text, who may do what,
  reminder rules, insights, milestones. No database sessions, no network.
- ``infra``: how the record is kept and work is run: the database and its migrations, the unit
  of work, the job queue, settings, logs and metrics for operators.
- ``postmortem``: the postmortem document: rendering it from a Jinja2 template, the sample
  incident templates are checked against, and the review of a postmortem written anywhere.
- ``services``: what people can do to incidents, one unit of work each.
- ``slack``, ``web``: the adapters: the Bolt app and its Slack calls; the HTTP endpoint and pages.
- ``entrypoints``: what builds and runs it all: the CLI, the runtime, the local stack and demo,
  the app manifest.

``emulator`` (the local Slack workspace) and ``playground`` stand beside these: tools for
trying the bot without Slack. Only ``slack``, ``entrypoints``, ``emulator`` and ``playground``
import Slack's SDKs (``tests/test_architecture.py`` checks the layers). docs/architecture.md
maps each feature to its parts.
"""

__version__ = "0.1.0"
