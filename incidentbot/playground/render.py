"""What the playground page shows, as safe HTML: Slack mrkdwn, Block Kit and Markdown files.

Everything here starts from text the bot or a person wrote and escapes it before adding the few
tags it knows; no input can put its own HTML, attributes or script into the page. Interactive
elements carry ``data-*`` attributes (action id, block id, input kind) that the page's script
reads to send the action through the driver, so the HTML holds no behaviour of its own.

The page inserts these fragments with ``innerHTML``; keeping the rendering here, in Python,
keeps it in one place that the tests can check without a browser.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererProtocol
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup, escape

__all__ = [
    "EMOJI",
    "Names",
    "emoji",
    "markdown_to_html",
    "mrkdwn_to_html",
    "render_blocks",
]

#: The shortcodes the bot uses and a few people type often; others stay readable as ``:name:``.
EMOJI = {
    "+1": "👍",
    "-1": "👎",
    "thumbsup": "👍",
    "thumbsdown": "👎",
    "pushpin": "📌",
    "round_pushpin": "📍",
    "white_check_mark": "✅",
    "heavy_check_mark": "✔️",
    "x": "❌",
    "warning": "⚠️",
    "rotating_light": "🚨",
    "fire": "🔥",
    "red_circle": "🔴",
    "large_orange_circle": "🟠",
    "large_yellow_circle": "🟡",
    "large_green_circle": "🟢",
    "large_blue_circle": "🔵",
    "white_circle": "⚪",
    "black_circle": "⚫",
    "small_blue_diamond": "🔹",
    "small_orange_diamond": "🔸",
    "loudspeaker": "📢",
    "mega": "📣",
    "page_facing_up": "📄",
    "memo": "📝",
    "bust_in_silhouette": "👤",
    "busts_in_silhouette": "👥",
    "zzz": "💤",
    "relieved": "😌",
    "smile": "😄",
    "slightly_smiling_face": "🙂",
    "tada": "🎉",
    "eyes": "👀",
    "memory": "🧠",
    "lock": "🔒",
    "unlock": "🔓",
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⏳",
    "file_cabinet": "🗄️",
    "chart_with_downwards_trend": "📉",
    "chart_with_upwards_trend": "📈",
    "bar_chart": "📊",
    "bell": "🔔",
    "arrows_counterclockwise": "🔄",
    "link": "🔗",
    "house": "🏠",
    "calendar": "📆",
    "clock1": "🕐",
    "stopwatch": "⏱️",
    "mag": "🔍",
    "bulb": "💡",
    "wrench": "🔧",
    "hammer_and_wrench": "🛠️",
    "rocket": "🚀",
    "speech_balloon": "💬",
    "information_source": "ℹ️",
    "question": "❓",
    "exclamation": "❗",
    "no_entry": "⛔",
    "sos": "🆘",
    "ambulance": "🚑",
    "pager": "📟",
    "telephone_receiver": "📞",
    "point_right": "👉",
    "raised_hands": "🙌",
    "pray": "🙏",
    "heart": "❤️",
    "100": "💯",
}

_SHORTCODE = re.compile(r":([a-z0-9_+-]+):")
# Placeholders for pieces rendered apart (links, mentions, code): characters from Unicode's
# private use area, removed from any input first so text cannot forge one.
_HOLE = "\ue000"
_PRIVATE = re.compile("[\ue000-\ue0ff]")
_HOLE_REF = re.compile(_HOLE + r"(\d+)" + _HOLE)
_SAFE_SCHEMES = ("http", "https", "mailto")


def emoji(text: str) -> str:
    """``:pushpin:`` → 📌 for known shortcodes; unknown ones stay as typed (readable)."""
    return _SHORTCODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)


def _emoji_html(html: str) -> str:
    """Like ``emoji`` in escaped HTML, keeping the shortcode as the emoji's tooltip (readable
    where no emoji font is installed)."""

    def replace(match: re.Match[str]) -> str:
        found = EMOJI.get(match.group(1))
        if found is None:
            return match.group(0)
        return str(Markup('<span class="emoji" title="{}">{}</span>').format(match.group(0), found))

    return _SHORTCODE.sub(replace, html)


def safe_url(url: str) -> str | None:
    """``url`` if it is a web or mail link (never ``javascript:`` and the like)."""
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in _SAFE_SCHEMES else None


def _link(url: str, label: str | Markup) -> Markup:
    target = safe_url(url)
    if target is None:
        return escape(label)
    return Markup('<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>').format(
        target, label
    )


@dataclass
class Names:
    """Names for the ids mrkdwn carries: people and channels of the workspace."""

    users: dict[str, str] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)


class _Holes:
    """Rendered pieces kept aside while the text around them is formatted."""

    def __init__(self) -> None:
        self.pieces: list[Markup] = []

    def keep(self, piece: Markup) -> str:
        self.pieces.append(piece)
        return f"{_HOLE}{len(self.pieces) - 1}{_HOLE}"

    def fill(self, text: str) -> str:
        # Pieces may hold holes themselves (a link inside bold text), so fill until none left.
        while _HOLE_REF.search(text):
            text = _HOLE_REF.sub(lambda m: str(self.pieces[int(m.group(1))]), text)
        return text


# ---------------------------------------------------------------------------- Slack mrkdwn

_CONTROL = re.compile(r"<([^<>]*)>")
_PRE = re.compile(r"```(.+?)```", re.S)
_CODE = re.compile(r"`([^`\n]+)`")
# Slack's markers count only at word edges: *bold*, _italic_, ~strike~.
_STYLES = (
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), "b"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])"), "i"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])"), "s"),
)


def _control(inner: str, names: Names) -> Markup:
    """One ``<…>`` sequence of Slack's text format as what Slack shows for it."""
    target, _, label = inner.partition("|")
    label = unescape(label)
    if target.startswith("@"):
        user_id = target[1:]
        name = names.users.get(user_id) or label or user_id
        return Markup('<span class="mention" data-user="{}">@{}</span>').format(user_id, name)
    if target.startswith("#"):
        channel_id = target[1:]
        name = names.channels.get(channel_id) or label or channel_id
        return Markup('<a class="channel-link" href="#" data-channel="{}">#{}</a>').format(
            channel_id, name
        )
    if target.startswith("!"):
        special = target[1:]
        if label:
            return Markup('<span class="mention">{}</span>').format(label)
        word = special.split("^", 1)[0]
        return Markup('<span class="mention">@{}</span>').format(word)
    url = unescape(target)
    return _link(url, escape(label or url))


def _styled(tag: str, match: re.Match[str]) -> str:
    return f"<{tag}>{match.group(1)}</{tag}>"


def _inline(text: str, names: Names, holes: _Holes) -> str:
    """Format one stretch of mrkdwn outside code; returns escaped HTML with holes."""
    text = _CONTROL.sub(lambda m: holes.keep(_control(m.group(1), names)), text)
    html = str(escape(unescape(text)))
    for pattern, tag in _STYLES:
        html = pattern.sub(functools.partial(_styled, tag), html)
    return _emoji_html(html).replace("\n", "<br>")


def _plain_code(text: str, names: Names) -> str:
    """Code keeps its characters; mentions and links inside it read as Slack shows them."""

    def readable(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith("@"):
            return "@" + (names.users.get(target[1:]) or label or target[1:])
        if target.startswith("#"):
            return "#" + (names.channels.get(target[1:]) or label or target[1:])
        return label or target

    return str(escape(unescape(_CONTROL.sub(readable, text))))


def mrkdwn_to_html(text: str | None, names: Names | None = None) -> Markup:
    """Slack ``mrkdwn`` (as the bot sends it, entities escaped) as safe HTML."""
    names = names or Names()
    text = _PRIVATE.sub("\ufffd", text or "")
    holes = _Holes()
    text = _PRE.sub(
        lambda m: holes.keep(
            Markup("<pre>{}</pre>").format(Markup(_plain_code(m.group(1).strip("\n"), names)))
        ),
        text,
    )
    text = _CODE.sub(
        lambda m: holes.keep(
            Markup("<code>{}</code>").format(Markup(_plain_code(m.group(1), names)))
        ),
        text,
    )
    return Markup(holes.fill(_inline(text, names, holes)))


def plain_to_html(text: str | None, *, emoji_codes: bool = True) -> Markup:
    """A ``plain_text`` object's text: escaped, shortcodes as emoji, line breaks kept."""
    html = str(escape(text or ""))
    if emoji_codes:
        html = _emoji_html(html)
    return Markup(html.replace("\n", "<br>"))


def text_object(obj: Any, names: Names) -> Markup:
    """A Block Kit text object (``plain_text`` or ``mrkdwn``)."""
    if not isinstance(obj, dict):
        return Markup("")
    if obj.get("type") == "mrkdwn":
        return mrkdwn_to_html(str(obj.get("text") or ""), names)
    return plain_to_html(str(obj.get("text") or ""), emoji_codes=obj.get("emoji", True))


# ---------------------------------------------------------------------------- Block Kit


@dataclass
class Choices:
    """What selects of people and conversations offer: ``(id, label)`` pairs."""

    users: list[tuple[str, str]] = field(default_factory=list)
    conversations: list[tuple[str, str]] = field(default_factory=list)


def _attrs(**values: Any) -> Markup:
    """``data-…`` attributes, escaped; ``None`` values are left out."""
    parts = [
        Markup(' data-{}="{}"').format(name.replace("_", "-"), value)
        for name, value in values.items()
        if value is not None
    ]
    return Markup("").join(parts)


def _option_label(option: dict[str, Any], names: Names) -> Markup:
    return text_object(option.get("text"), names)


def _options(element: dict[str, Any]) -> Iterable[tuple[str | None, list[dict[str, Any]]]]:
    if element.get("option_groups"):
        for group in element["option_groups"]:
            label = ((group or {}).get("label") or {}).get("text")
            yield label, list((group or {}).get("options") or [])
    else:
        yield None, list(element.get("options") or [])


def _select_options(pairs: Iterable[tuple[str, str | Markup]], selected: Iterable[str]) -> Markup:
    chosen = set(selected)
    return Markup("").join(
        Markup('<option value="{}"{}>{}</option>').format(
            value, Markup(" selected") if value in chosen else "", label
        )
        for value, label in pairs
    )


def _placeholder(element: dict[str, Any], default: str) -> str:
    return str((element.get("placeholder") or {}).get("text") or default)


def _static_select(element: dict[str, Any], names: Names, *, multiple: bool) -> Markup:
    if multiple:
        selected = [o.get("value") for o in element.get("initial_options") or []]
    else:
        selected = [(element.get("initial_option") or {}).get("value")]
    body: list[Markup] = []
    if not multiple:
        body.append(
            Markup('<option value="">{}</option>').format(_placeholder(element, "Select an item"))
        )
    for group, options in _options(element):
        pairs = [(str(o.get("value", "")), str(_plain_label(o))) for o in options]
        rendered = _select_options(pairs, [s for s in selected if s])
        if group:
            body.append(Markup('<optgroup label="{}">{}</optgroup>').format(group, rendered))
        else:
            body.append(rendered)
    return Markup("").join(body)


def _plain_label(option: dict[str, Any]) -> str:
    """An option's text as plain words (``<option>`` cannot hold markup)."""
    text = str((option.get("text") or {}).get("text") or "")
    return emoji(text)


def _entity_select(
    element: dict[str, Any], pairs: list[tuple[str, str]], initial: list[str], *, multiple: bool
) -> Markup:
    head = (
        Markup("")
        if multiple
        else Markup('<option value="">{}</option>').format(_placeholder(element, "Select"))
    )
    return head + _select_options(pairs, initial)


def render_element(
    element: dict[str, Any],
    names: Names,
    choices: Choices,
    *,
    block_id: str | None,
    is_input: bool,
) -> Markup:
    """One interactive element. Inputs carry ``data-input`` (read on submit); the others carry
    ``data-action-id`` (sent as ``block_actions`` when used)."""
    kind = str(element.get("type") or "")
    action_id = element.get("action_id")
    if kind == "image":
        return Markup('<span class="bk-image" title="{}">[image: {}]</span>').format(
            element.get("image_url") or "", element.get("alt_text") or "image"
        )
    if is_input:
        data = _attrs(input=kind, action_id=action_id, block_id=block_id)
    else:
        data = _attrs(action_id=action_id, block_id=block_id, element=kind)
    if kind == "button":
        style = element.get("style")
        confirm = (
            json.dumps(element["confirm"]) if isinstance(element.get("confirm"), dict) else None
        )
        extra = _attrs(value=element.get("value"), url=element.get("url"), confirm=confirm)
        return Markup('<button type="button" class="bk-button {}"{}{}>{}</button>').format(
            style if style in ("primary", "danger") else "",
            data,
            extra,
            text_object(element.get("text"), names),
        )
    if kind in ("static_select", "external_select"):
        return Markup('<select class="bk-select"{}>{}</select>').format(
            data, _static_select(element, names, multiple=False)
        )
    if kind in ("multi_static_select", "multi_external_select"):
        return Markup('<select class="bk-select" multiple{}>{}</select>').format(
            data, _static_select(element, names, multiple=True)
        )
    if kind == "overflow":
        pairs = [(str(o.get("value", "")), _plain_label(o)) for o in element.get("options") or []]
        head = Markup('<option value="">⋯</option>')
        return Markup('<select class="bk-select bk-overflow"{}>{}</select>').format(
            data, head + _select_options(pairs, [])
        )
    if kind in ("users_select", "multi_users_select"):
        multiple = kind.startswith("multi_")
        initial = (
            list(element.get("initial_users") or [])
            if multiple
            else [element.get("initial_user") or ""]
        )
        return Markup('<select class="bk-select"{}{}>{}</select>').format(
            Markup(" multiple") if multiple else "",
            data,
            _entity_select(element, choices.users, initial, multiple=multiple),
        )
    if kind in (
        "conversations_select",
        "channels_select",
        "multi_conversations_select",
        "multi_channels_select",
    ):
        multiple = kind.startswith("multi_")
        key = "conversation" if "conversations" in kind else "channel"
        initial = (
            list(element.get(f"initial_{key}s") or [])
            if multiple
            else [element.get(f"initial_{key}") or ""]
        )
        return Markup('<select class="bk-select"{}{}>{}</select>').format(
            Markup(" multiple") if multiple else "",
            data,
            _entity_select(element, choices.conversations, initial, multiple=multiple),
        )
    if kind in ("checkboxes", "radio_buttons"):
        box = "checkbox" if kind == "checkboxes" else "radio"
        if kind == "checkboxes":
            chosen = {o.get("value") for o in element.get("initial_options") or []}
        else:
            chosen = {(element.get("initial_option") or {}).get("value")}
        rows = []
        for option in element.get("options") or []:
            description = option.get("description")
            rows.append(
                Markup(
                    '<label class="bk-choice"><input type="{}" name="{}" value="{}"{}> '
                    "<span>{}{}</span></label>"
                ).format(
                    box,
                    f"{block_id}.{action_id}",
                    option.get("value", ""),
                    Markup(" checked") if option.get("value") in chosen else "",
                    _option_label(option, names),
                    Markup('<small class="bk-hint">{}</small>').format(
                        text_object(description, names)
                    )
                    if description
                    else "",
                )
            )
        return Markup('<div class="bk-choices"{}>{}</div>').format(data, Markup("").join(rows))
    if kind in ("plain_text_input", "rich_text_input"):
        placeholder = _placeholder(element, "")
        value = element.get("initial_value")
        if isinstance(value, dict):  # a rich_text_input's initial value is rich text
            value = _rich_text_plain(value)
        limits = Markup("").join(
            Markup(' {}="{}"').format(name, element[key])
            for name, key in (("maxlength", "max_length"), ("minlength", "min_length"))
            if isinstance(element.get(key), int)
        )
        if element.get("multiline") or kind == "rich_text_input":
            return Markup(
                '<textarea class="bk-text" rows="4" placeholder="{}"{}{}>{}</textarea>'
            ).format(placeholder, limits, data, value or "")
        return Markup('<input type="text" class="bk-text" placeholder="{}" value="{}"{}{}>').format(
            placeholder, value or "", limits, data
        )
    simple_inputs = {
        "number_input": ("number", "initial_value"),
        "email_text_input": ("email", "initial_value"),
        "url_text_input": ("url", "initial_value"),
        "datepicker": ("date", "initial_date"),
        "timepicker": ("time", "initial_time"),
    }
    if kind in simple_inputs:
        html_type, initial_key = simple_inputs[kind]
        return Markup('<input type="{}" class="bk-text" placeholder="{}" value="{}"{}>').format(
            html_type, _placeholder(element, ""), element.get(initial_key) or "", data
        )
    if kind == "datetimepicker":
        return Markup('<input type="datetime-local" class="bk-text"{}{}>').format(
            data, _attrs(initial=element.get("initial_date_time"))
        )
    return Markup('<span class="bk-unsupported">[{} not shown in the playground]</span>').format(
        kind or "element"
    )


def _rich_text_plain(block: dict[str, Any]) -> str:
    parts: list[str] = []
    for section in block.get("elements") or []:
        for item in section.get("elements") or []:
            parts.append(str(item.get("text") or item.get("url") or ""))
    return "".join(parts)


def _rich_text(block: dict[str, Any], names: Names) -> Markup:
    """A ``rich_text`` block (what Slack makes of what people type)."""

    def inline(items: list[dict[str, Any]]) -> Markup:
        out: list[Markup] = []
        for item in items:
            kind = item.get("type")
            style = item.get("style") or {}
            if kind == "text":
                piece = plain_to_html(str(item.get("text") or ""), emoji_codes=False)
            elif kind == "link":
                piece = _link(
                    str(item.get("url") or ""), escape(item.get("text") or item.get("url"))
                )
            elif kind == "user":
                piece = _control(f"@{item.get('user_id', '')}", names)
            elif kind == "channel":
                piece = _control(f"#{item.get('channel_id', '')}", names)
            elif kind == "emoji":
                piece = Markup(_emoji_html(str(escape(f":{item.get('name', '')}:"))))
            elif kind == "broadcast":
                piece = Markup('<span class="mention">@{}</span>').format(item.get("range", ""))
            else:
                piece = escape(item.get("text") or "")
            for flag, tag in (("bold", "b"), ("italic", "i"), ("strike", "s"), ("code", "code")):
                if style.get(flag):
                    piece = Markup(f"<{tag}>{{}}</{tag}>").format(piece)
            out.append(piece)
        return Markup("").join(out)

    parts: list[Markup] = []
    for element in block.get("elements") or []:
        kind = element.get("type")
        items = element.get("elements") or []
        if kind == "rich_text_section":
            parts.append(Markup("<div>{}</div>").format(inline(items)))
        elif kind == "rich_text_preformatted":
            parts.append(Markup("<pre>{}</pre>").format(inline(items)))
        elif kind == "rich_text_quote":
            parts.append(Markup("<blockquote>{}</blockquote>").format(inline(items)))
        elif kind == "rich_text_list":
            tag = "ol" if element.get("style") == "ordered" else "ul"
            rows = Markup("").join(
                Markup("<li>{}</li>").format(inline(item.get("elements") or [])) for item in items
            )
            parts.append(Markup(f"<{tag}>{{}}</{tag}>").format(rows))
    return Markup('<div class="bk-rich">{}</div>').format(Markup("").join(parts))


def render_block(
    block: dict[str, Any], names: Names, choices: Choices, *, error: str | None = None
) -> Markup:
    kind = block.get("type")
    block_id = block.get("block_id")
    data = _attrs(block_id=block_id)
    if kind == "header":
        return Markup('<div class="bk-header"{}>{}</div>').format(
            data, text_object(block.get("text"), names)
        )
    if kind == "divider":
        return Markup('<hr class="bk-divider"{}>').format(data)
    if kind == "section":
        text = text_object(block["text"], names) if "text" in block else Markup("")
        fields = Markup("").join(
            Markup('<div class="bk-field">{}</div>').format(text_object(f, names))
            for f in block.get("fields") or []
        )
        accessory = block.get("accessory")
        side = (
            Markup('<div class="bk-accessory">{}</div>').format(
                render_element(accessory, names, choices, block_id=block_id, is_input=False)
            )
            if isinstance(accessory, dict)
            else Markup("")
        )
        return Markup(
            '<div class="bk-section"{}><div class="bk-section-body">'
            '<div class="bk-text-body">{}</div>{}</div>{}</div>'
        ).format(
            data,
            text,
            Markup('<div class="bk-fields">{}</div>').format(fields) if fields else "",
            side,
        )
    if kind == "context":
        items = Markup(" ").join(
            render_element(e, names, choices, block_id=block_id, is_input=False)
            if isinstance(e, dict) and e.get("type") == "image"
            else Markup("<span>{}</span>").format(text_object(e, names))
            for e in block.get("elements") or []
        )
        return Markup('<div class="bk-context"{}>{}</div>').format(data, items)
    if kind == "actions":
        items = Markup("").join(
            render_element(e, names, choices, block_id=block_id, is_input=False)
            for e in block.get("elements") or []
            if isinstance(e, dict)
        )
        return Markup('<div class="bk-actions"{}>{}</div>').format(data, items)
    if kind == "input":
        element = block.get("element") or {}
        label = text_object(block.get("label"), names)
        optional = (
            Markup(' <span class="bk-optional">(optional)</span>')
            if block.get("optional")
            else Markup("")
        )
        hint = (
            Markup('<div class="bk-hint">{}</div>').format(text_object(block["hint"], names))
            if block.get("hint")
            else Markup("")
        )
        return Markup(
            '<div class="bk-input{}"{}{}><label class="bk-label">{}{}</label>{}{}'
            '<div class="bk-error" role="alert">{}</div></div>'
        ).format(
            " has-error" if error else "",
            data,
            Markup(" data-required") if not block.get("optional") else "",
            label,
            optional,
            render_element(element, names, choices, block_id=block_id, is_input=True),
            hint,
            error or "",
        )
    if kind == "image":
        title = (block.get("title") or {}).get("text")
        return Markup('<div class="bk-image-block"{}>[image: {}]{}</div>').format(
            data,
            block.get("alt_text") or "image",
            Markup(" — {}").format(title) if title else "",
        )
    if kind == "rich_text":
        return _rich_text(block, names)
    if kind == "markdown":
        return Markup('<div class="bk-markdown">{}</div>').format(
            markdown_to_html(str(block.get("text") or ""))
        )
    return Markup(
        '<div class="bk-unsupported">[{} block not shown in the playground]</div>'
    ).format(kind or "unknown")


def render_blocks(
    blocks: Iterable[dict[str, Any]],
    names: Names,
    choices: Choices | None = None,
    *,
    errors: dict[str, str] | None = None,
) -> Markup:
    """Blocks of a message or a view; ``errors`` (block_id → message) go beside inputs."""
    choices = choices or Choices()
    errors = errors or {}
    return Markup("").join(
        render_block(b, names, choices, error=errors.get(str(b.get("block_id"))))
        for b in blocks
        if isinstance(b, dict)
    )


# ---------------------------------------------------------------------------- Markdown files


class _Markdown(MarkdownIt):
    def validateLink(self, url: str) -> bool:  # markdown-it-py's name for it
        return True  # judged when rendered (link_open), so the label survives


def _markdown() -> MarkdownIt:
    """CommonMark with tables and strikethrough, as the uploaded postmortems are written; raw
    HTML is shown as text, a line break in a paragraph is kept, and a link goes out only to a
    web or mail address (``safe_url``): any other keeps its label as plain text."""
    md = _Markdown("commonmark", {"html": False, "breaks": True, "xhtmlOut": False})
    md.enable(["table", "strikethrough"])

    def link_open(
        renderer: RendererProtocol,
        tokens: Sequence[Token],
        index: int,
        options: OptionsDict,
        env: EnvType,
    ) -> str:
        href = str(tokens[index].attrGet("href") or "")
        target = safe_url(href)
        # Per render (``env``), so pages rendered at once on several threads never mix.
        env.setdefault("unsafe", []).append(target is None)
        if target is None:
            return ""
        return str(Markup('<a href="{}" target="_blank" rel="noopener noreferrer">').format(target))

    def link_close(
        renderer: RendererProtocol,
        tokens: Sequence[Token],
        index: int,
        options: OptionsDict,
        env: EnvType,
    ) -> str:
        return "" if env["unsafe"].pop() else "</a>"

    def image(
        renderer: RendererProtocol,
        tokens: Sequence[Token],
        index: int,
        options: OptionsDict,
        env: EnvType,
    ) -> str:
        # The file viewer loads nothing from elsewhere: an image shows as its description.
        return str(escape(tokens[index].content))

    md.add_render_rule("link_open", link_open)
    md.add_render_rule("link_close", link_close)
    md.add_render_rule("image", image)
    return md


_MARKDOWN = _markdown()


def markdown_to_html(text: str) -> Markup:
    """Markdown (a postmortem file, a Block Kit ``markdown`` block) as safe HTML, rendered by
    markdown-it-py: headings, paragraphs, lists, tables, quotes, code, rules, emphasis and web
    links. Raw HTML in the text is shown as text."""
    return Markup(_MARKDOWN.render(_PRIVATE.sub("\ufffd", text), {}))
