"""Every callback_id, block_id and action_id the app uses, in one place."""

DECLARE_VIEW = "declare_incident"

TITLE_BLOCK = "title"
TITLE_INPUT = "title_input"
SEVERITY_BLOCK = "severity"
SEVERITY_INPUT = "severity_select"
SUMMARY_BLOCK = "summary"
SUMMARY_INPUT = "summary_input"
PRIVATE_BLOCK = "private"
PRIVATE_INPUT = "private_checkbox"
LEAD_BLOCK = "lead"
LEAD_INPUT = "lead_select"

PUSHPIN_REACTION = "pushpin"

IMPACT_CONFIRM = "impact_start_confirm"
IMPACT_KEEP = "impact_start_keep"

# The app's Home tab.
HOME_DECLARE = "home_declare"

# The "Add to incident timeline" message shortcut and its form.
ADD_TO_TIMELINE = "add_to_timeline"
TIMELINE_VIEW = "add_to_timeline_form"
TIMELINE_NOTE_BLOCK = "timeline_note"
TIMELINE_NOTE_INPUT = "timeline_note_input"

# The snooze buttons of a stakeholder-update reminder (a DM to the lead).
REMINDER_SNOOZE_SHORT = "reminder_snooze_short"
REMINDER_SNOOZE_LONG = "reminder_snooze_long"
