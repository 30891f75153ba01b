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

# The declare form's "Already over?" times: with Resolved, it records the incident after the fact.
PAST_INTRO_BLOCK = "past_intro"
PAST_STARTED_BLOCK = "past_started"
PAST_STARTED_INPUT = "past_started_input"
PAST_DETECTED_BLOCK = "past_detected"
PAST_DETECTED_INPUT = "past_detected_input"
PAST_MITIGATED_BLOCK = "past_mitigated"
PAST_MITIGATED_INPUT = "past_mitigated_input"
PAST_RESOLVED_BLOCK = "past_resolved"
PAST_RESOLVED_INPUT = "past_resolved_input"
# Each time by the name the form reads it under: (block_id, action_id).
PAST_TIMES = {
    "started": (PAST_STARTED_BLOCK, PAST_STARTED_INPUT),
    "detected": (PAST_DETECTED_BLOCK, PAST_DETECTED_INPUT),
    "mitigated": (PAST_MITIGATED_BLOCK, PAST_MITIGATED_INPUT),
    "resolved": (PAST_RESOLVED_BLOCK, PAST_RESOLVED_INPUT),
}

# The pinned summary's "Correct the timeline" button and its form.
CORRECT_TIMELINE = "correct_timeline"
CORRECTION_VIEW = "correct_timeline_form"
CORRECTION_ENTRY_BLOCK = "correction_entry"
CORRECTION_ENTRY_INPUT = "correction_entry_select"
CORRECTION_TEXT_BLOCK = "correction_text"
CORRECTION_TEXT_INPUT = "correction_text_input"
CORRECTION_TIME_BLOCK = "correction_time"
CORRECTION_TIME_INPUT = "correction_time_input"
CORRECTION_DELETE_BLOCK = "correction_delete"
CORRECTION_DELETE_INPUT = "correction_delete_checkbox"
CORRECTION_REASON_BLOCK = "correction_reason"
CORRECTION_REASON_INPUT = "correction_reason_input"
