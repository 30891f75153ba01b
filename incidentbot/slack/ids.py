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
