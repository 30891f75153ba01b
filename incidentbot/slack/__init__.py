"""Everything that speaks Slack: the Bolt app, its listeners, Block Kit and the jobs that call
Slack's Web API after a change is committed."""
