"""Composition roots: what builds the app from settings and runs it (the CLI, the runtime, the
local stack behind ``demo`` and tests, the Slack app manifest, the reminder loop)."""
