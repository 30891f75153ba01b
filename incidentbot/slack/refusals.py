"""Which of Slack's answers are worth waiting out, and what the others mean to a person.

Slack answers a Web API call it will not do with an error code. A few codes say "not now"
(``ratelimited``, ``internal_error``, ``service_unavailable``, ``request_timeout``, with HTTP 429
or 5xx): the call is tried again later. Every other code is a refusal Slack will repeat however
often it is asked (a missing scope, a guest who may not join, a name Slack does not accept), so
the step is given up at once; the steps that do not depend on it still happen, and whoever asked
is told what Slack refused and what a person can do about it. ``docs/reliability.md`` lists the
classes.

Codes and their meaning are from Slack's method pages (``conversations.invite``,
``conversations.create``, ``pins.add``, ``chat.postMessage``, …) and its page on scopes.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

# Codes that mean "try again later"; with HTTP 429 or any 5xx the same holds.
TEMPORARY = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


@dataclass(frozen=True)
class Meaning:
    """What a refusal says, in plain words, and what a person can do about it.

    ``{who}`` is the person the step was about (a mention), ``{needed}`` the scope Slack named.
    """

    what: str
    remedy: str


# One row per documented code the bot can meet; the class each belongs to is in the comment.
MEANINGS: dict[str, Meaning] = {
    # -- people who cannot be added ------------------------------------------------------------
    "cant_invite": Meaning(
        "Slack would not let me add {who} to the channel",
        "invite them by hand (`/invite {who}` in the channel)",
    ),
    "user_is_restricted": Meaning(
        "{who} is a guest, and this workspace lets only its admins add guests to channels",
        "a workspace admin can add them by hand",
    ),
    "user_is_ultra_restricted": Meaning(
        "{who} is a single-channel guest, who can only be in the one channel they were invited to",
        "a workspace admin can make them a multi-channel guest, then invite them by hand",
    ),
    "ura_max_channels": Meaning(
        "{who} is a single-channel guest and already in their one channel",
        "a workspace admin can make them a multi-channel guest, then invite them by hand",
    ),
    "no_external_invite_permission": Meaning(
        "{who} is from another organisation (Slack Connect), and this channel is not shared "
        "with it",
        "share the channel with their organisation, or keep them informed another way",
    ),
    "invitee_cant_see_channel": Meaning(
        "{who} is in another workspace of your Enterprise Grid organisation, and this channel "
        "is not shared with it",
        "an org admin can share the channel with their workspace; then invite them by hand",
    ),
    "user_is_deactivated": Meaning(
        "{who}'s Slack account is deactivated",
        "hand the role to someone else",
    ),
    "user_disabled": Meaning(
        "{who}'s Slack account is disabled",
        "hand the role to someone else",
    ),
    "user_not_found": Meaning(
        "Slack does not know {who} in this workspace",
        "check the mention and try again",
    ),
    # -- the bot is not allowed --------------------------------------------------------------
    "missing_scope": Meaning(
        "the bot's Slack app lacks the `{needed}` permission",
        "a Slack admin adds `{needed}` to the app (`incidentbot manifest` prints the whole "
        "manifest) and reinstalls it",
    ),
    "restricted_action": Meaning(
        "this workspace's settings do not allow the bot to do that",
        "a Slack admin can allow it in the workspace's settings; meanwhile do it by hand",
    ),
    "not_allowed_token_type": Meaning(
        "the bot's token is of a type Slack does not accept for this",
        "install the app again and set `SLACK_BOT_TOKEN` to its bot token (`xoxb-…`)",
    ),
    "no_permission": Meaning(
        "the bot is not allowed to do that here",
        "a Slack admin can check the app's permissions",
    ),
    "access_denied": Meaning(
        "Slack denied the bot access",
        "a Slack admin can check the app's permissions",
    ),
    "team_access_not_granted": Meaning(
        "the app is not installed on the workspace this concerns",
        "an org admin can add the app to that workspace",
    ),
    "ekm_access_denied": Meaning(
        "your organisation's key management has revoked access to this",
        "a Slack admin can restore access in Enterprise Key Management",
    ),
    "invalid_auth": Meaning(
        "Slack does not accept the bot's token",
        "install the app again and update `SLACK_BOT_TOKEN`",
    ),
    "not_authed": Meaning(
        "the bot sent no token",
        "set `SLACK_BOT_TOKEN`",
    ),
    "token_revoked": Meaning(
        "the bot's token was revoked",
        "install the app again and update `SLACK_BOT_TOKEN`",
    ),
    "account_inactive": Meaning(
        "the bot's Slack account is inactive (the app was removed)",
        "install the app again and update `SLACK_BOT_TOKEN`",
    ),
    # -- the channel -----------------------------------------------------------------------------
    "is_archived": Meaning(
        "the channel is archived",
        "unarchive it, or carry on in a new channel",
    ),
    "channel_not_found": Meaning(
        "the channel no longer exists, or the bot cannot see it",
        "check that the channel exists and that the bot is in it",
    ),
    "not_in_channel": Meaning(
        "the bot is not in the channel",
        "add the bot back with `/invite @incidentbot`",
    ),
    "method_not_supported_for_channel_type": Meaning(
        "Slack does not do that in this kind of conversation",
        "use a public or private channel",
    ),
    "invalid_name": Meaning(
        "Slack does not accept the channel name",
        "pick another title or `INCIDENTBOT_CHANNEL_PREFIX`",
    ),
    "invalid_name_specials": Meaning(
        "Slack does not accept the characters in the channel name",
        "pick another title or `INCIDENTBOT_CHANNEL_PREFIX`",
    ),
    "invalid_name_punctuation": Meaning(
        "Slack does not accept a channel name made only of punctuation",
        "pick another title or `INCIDENTBOT_CHANNEL_PREFIX`",
    ),
    "invalid_name_maxlength": Meaning(
        "the channel name is longer than Slack allows",
        "pick a shorter `INCIDENTBOT_CHANNEL_PREFIX`",
    ),
    "invalid_name_required": Meaning(
        "the channel name is empty",
        "pick another title or `INCIDENTBOT_CHANNEL_PREFIX`",
    ),
    "too_many_pins": Meaning(
        "the channel has as many pins as Slack allows",
        "unpin something and pin the summary by hand",
    ),
    "msg_too_long": Meaning(
        "the message is longer than Slack takes",
        "read it on the incident's web page",
    ),
}

_UNKNOWN = Meaning(
    "Slack refused it (`{code}`)",
    "an operator can find the details in the bot's log",
)


def is_temporary(error: SlackApiError) -> bool:
    """Whether Slack said "not now" rather than "no"."""
    status = error.response.status_code
    return status == 429 or status >= 500 or _code(error) in TEMPORARY


def is_final(error: BaseException) -> bool:
    """A refusal Slack will repeat however often it is asked."""
    return isinstance(error, SlackApiError) and not is_temporary(error)


@dataclass(frozen=True)
class Refusal:
    """One final refusal of one step, as the bot reports it."""

    step: str  # what the bot was doing, in words: "add <@U1> to the channel"
    code: str
    needed: str | None = None
    who: str | None = None

    @classmethod
    def of(cls, error: SlackApiError, *, step: str, who: str | None = None) -> Refusal:
        needed = error.response.get("needed") if isinstance(error.response.data, dict) else None
        return cls(
            step=step, code=_code(error) or str(error.response.status_code), needed=needed, who=who
        )

    def _meaning(self) -> Meaning:
        return MEANINGS.get(self.code, _UNKNOWN)

    def _fill(self, text: str) -> str:
        return text.format(
            who=self.who or "them", needed=self.needed or "a required", code=self.code
        )

    @property
    def what(self) -> str:
        return self._fill(self._meaning().what)

    @property
    def remedy(self) -> str:
        return self._fill(self._meaning().remedy)

    def sentence(self) -> str:
        """For the person who asked: "I could not add <@U1> to the channel: … What to do: …"."""
        return f"I could not {self.step}: {self.what}. What you can do: {self.remedy}."

    def log_line(self) -> str:
        """For operators: the step and Slack's own code (no names, no secrets)."""
        extra = f" (needed {self.needed})" if self.needed else ""
        return f"Slack refused to {self.step}: {self.code}{extra}"


def _code(error: SlackApiError) -> str | None:
    data = error.response.data
    return data.get("error") if isinstance(data, dict) else None
