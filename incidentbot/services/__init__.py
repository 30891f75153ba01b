"""What people can do to incidents; each function is one unit of work's worth.

Service functions take plain values and a unit of work, change the domain, queue the Slack work
that should follow, and raise ``IncidentError`` with a human message when they refuse. The
caller commits.
"""

from incidentbot.services.actions import add_action_item, update_action_item
from incidentbot.services.events import claim_event
from incidentbot.services.impact import (
    confirm_impact_start_from,
    set_impact_start,
    set_impact_start_at,
    set_milestone,
    set_milestone_at,
)
from incidentbot.services.incidents import (
    declare_incident,
    get_incident,
    incident_in_channel,
    open_incidents,
    retry_unopened,
)
from incidentbot.services.lifecycle import (
    change_severity,
    change_status,
    close,
    reopen,
    request_postmortem,
    resolve,
)
from incidentbot.services.membership import (
    add_member,
    can_see,
    incident_page,
    remove_member,
)
from incidentbot.services.past import (
    PastIncident,
    parse_past_incident,
    past_usage,
    record_past_incident,
)
from incidentbot.services.people import known_person, people_by_id, remember_person
from incidentbot.services.postmortems import (
    choose_template,
    draft_postmortem,
    generate_postmortem,
    latest_postmortem,
    set_document_status,
    set_postmortem_owner,
    template_for,
)
from incidentbot.services.record import (
    correctable_entries,
    delete_entry,
    edit_entry_text,
    edit_entry_time,
    edited_entry_ids,
    entry_by_number,
    follow_slack_delete,
    follow_slack_edit,
    lifecycle_of,
    parse_entry_number,
    revisions,
    timeline_page,
)
from incidentbot.services.roles import assign_role
from incidentbot.services.stats import incident_stats, incidents_declared, parse_window
from incidentbot.services.timeline import (
    add_backdated_note,
    add_message_to_timeline,
    add_note,
    add_note_at,
    capture_message,
    entry_page,
    latest_update,
    metric_timelines,
    post_update,
    read_timeline,
    set_impact,
    set_summary,
)
from incidentbot.services.vocabulary import parse_role, parse_severity, parse_status

__all__ = [
    "PastIncident",
    "add_note_at",
    "past_usage",
    "correctable_entries",
    "delete_entry",
    "edited_entry_ids",
    "edit_entry_text",
    "edit_entry_time",
    "entry_by_number",
    "follow_slack_delete",
    "follow_slack_edit",
    "lifecycle_of",
    "parse_entry_number",
    "parse_past_incident",
    "record_past_incident",
    "revisions",
    "set_milestone",
    "set_milestone_at",
    "timeline_page",
    "add_member",
    "can_see",
    "incident_page",
    "remove_member",
    "add_action_item",
    "add_backdated_note",
    "add_message_to_timeline",
    "add_note",
    "assign_role",
    "capture_message",
    "choose_template",
    "claim_event",
    "confirm_impact_start_from",
    "change_severity",
    "change_status",
    "close",
    "declare_incident",
    "draft_postmortem",
    "generate_postmortem",
    "get_incident",
    "incident_in_channel",
    "incident_stats",
    "incidents_declared",
    "known_person",
    "latest_update",
    "metric_timelines",
    "latest_postmortem",
    "open_incidents",
    "parse_role",
    "parse_severity",
    "parse_status",
    "parse_window",
    "people_by_id",
    "post_update",
    "entry_page",
    "read_timeline",
    "remember_person",
    "reopen",
    "request_postmortem",
    "resolve",
    "retry_unopened",
    "set_document_status",
    "set_postmortem_owner",
    "set_impact",
    "set_impact_start",
    "set_impact_start_at",
    "set_summary",
    "template_for",
    "update_action_item",
]
