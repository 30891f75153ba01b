"""Block Kit knowledge the emulator needs: Slack's size limits, ids and view state shapes.

Slack refuses messages and views that break its Block Kit limits (``invalid_blocks``,
``invalid_arguments``), and the app only learns that in production. Checking the common limits
here makes such bugs fail in tests. The same module builds ``view.state.values`` exactly as
Slack does, because that nested shape is where modal handlers most often go wrong.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

__all__ = [
    "assign_ids",
    "element_value",
    "find_element",
    "input_elements",
    "interactive_elements",
    "state_values",
    "validate_blocks",
    "validate_view",
]

KNOWN_BLOCKS = frozenset(
    {
        "actions",
        "context",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "video",
        "call",
        "context_actions",
        "table",
    }
)

_VALUE = frozenset({"plain_text_input", "number_input", "email_text_input", "url_text_input"})
_OPTION = frozenset({"static_select", "external_select", "radio_buttons", "overflow"})
_OPTIONS = frozenset({"multi_static_select", "multi_external_select", "checkboxes"})
_SINGLE_ENTITY = {
    "users_select": ("selected_user", "initial_user"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "channels_select": ("selected_channel", "initial_channel"),
    "datepicker": ("selected_date", "initial_date"),
    "timepicker": ("selected_time", "initial_time"),
    "datetimepicker": ("selected_date_time", "initial_date_time"),
}
_MULTI_ENTITY = {
    "multi_users_select": ("selected_users", "initial_users"),
    "multi_conversations_select": ("selected_conversations", "initial_conversations"),
    "multi_channels_select": ("selected_channels", "initial_channels"),
}


def _err(message: str, pointer: str) -> str:
    return f"[ERROR] {message} [json-pointer:{pointer}]"


def _check_text(obj: Any, pointer: str, *, limit: int, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict):
        return [_err("must be a text object", pointer)]
    kind = obj.get("type")
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if kind not in allowed:
        return [_err(f"must be one of {', '.join(allowed)}", f"{pointer}/type")]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [_err("must be more than 0 characters", f"{pointer}/text")]
    if len(text) > limit:
        return [_err(f"must be less than {limit + 1} characters", f"{pointer}/text")]
    return []


def _check_options(options: Any, pointer: str) -> list[str]:
    if not isinstance(options, list) or not options:
        return [_err("must provide at least 1 option", pointer)]
    problems: list[str] = []
    if len(options) > 100:
        problems.append(_err("must provide at most 100 items", pointer))
    for i, option in enumerate(options):
        if not isinstance(option, dict):
            problems.append(_err("must be an option object", f"{pointer}/{i}"))
            continue
        problems += _check_text(option.get("text"), f"{pointer}/{i}/text", limit=75)
        value = option.get("value")
        if not isinstance(value, str) or len(value) > 150:
            problems.append(_err("must be a string of at most 150 characters", f"{pointer}/{i}"))
    return problems


def _check_element(element: Any, pointer: str) -> list[str]:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        return [_err("must be an element with a type", pointer)]
    problems: list[str] = []
    kind = element["type"]
    action_id = element.get("action_id")
    if action_id is not None and (not isinstance(action_id, str) or len(action_id) > 255):
        problems.append(_err("must be at most 255 characters", f"{pointer}/action_id"))
    if kind == "button":
        problems += _check_text(element.get("text"), f"{pointer}/text", limit=75, plain_only=True)
        if len(str(element.get("value", ""))) > 2000:
            problems.append(_err("must be less than 2001 characters", f"{pointer}/value"))
    if kind in ("static_select", "multi_static_select", "radio_buttons", "checkboxes", "overflow"):
        if "option_groups" in element:
            for g, group in enumerate(element.get("option_groups") or []):
                problems += _check_options(
                    (group or {}).get("options"), f"{pointer}/option_groups/{g}/options"
                )
        else:
            problems += _check_options(element.get("options"), f"{pointer}/options")
    if "placeholder" in element:
        problems += _check_text(
            element["placeholder"], f"{pointer}/placeholder", limit=150, plain_only=True
        )
    return problems


def validate_blocks(blocks: Any, *, pointer: str = "/blocks", max_blocks: int = 50) -> list[str]:
    """Problems Slack would report for ``blocks`` (empty list when acceptable)."""
    if not isinstance(blocks, list):
        return [_err("must be an array", pointer)]
    problems: list[str] = []
    if len(blocks) > max_blocks:
        problems.append(_err(f"must provide at most {max_blocks} items", pointer))
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        here = f"{pointer}/{i}"
        if not isinstance(block, dict) or block.get("type") not in KNOWN_BLOCKS:
            kind = block.get("type") if isinstance(block, dict) else None
            problems.append(_err(f"unsupported type: {kind}", f"{here}/type"))
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or len(block_id) > 255:
                problems.append(_err("must be at most 255 characters", f"{here}/block_id"))
            elif block_id in block_ids:
                problems.append(_err(f"duplicate block_id: {block_id}", f"{here}/block_id"))
            else:
                block_ids.add(block_id)
        kind = block["type"]
        if kind == "header":
            problems += _check_text(block.get("text"), f"{here}/text", limit=150, plain_only=True)
        elif kind == "section":
            if "text" not in block and "fields" not in block:
                problems.append(_err("must provide either text or fields", here))
            if "text" in block:
                problems += _check_text(block["text"], f"{here}/text", limit=3000)
            fields = block.get("fields")
            if fields is not None:
                if not isinstance(fields, list) or len(fields) > 10:
                    problems.append(_err("must provide at most 10 items", f"{here}/fields"))
                else:
                    for f, item in enumerate(fields):
                        problems += _check_text(item, f"{here}/fields/{f}", limit=2000)
            if "accessory" in block:
                problems += _check_element(block["accessory"], f"{here}/accessory")
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                problems.append(_err("must provide between 1 and 10 items", f"{here}/elements"))
            else:
                for e, element in enumerate(elements):
                    if isinstance(element, dict) and element.get("type") != "image":
                        problems += _check_text(element, f"{here}/elements/{e}", limit=3000)
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
                problems.append(_err("must provide between 1 and 25 items", f"{here}/elements"))
            else:
                seen: set[str] = set()
                for e, element in enumerate(elements):
                    problems += _check_element(element, f"{here}/elements/{e}")
                    aid = element.get("action_id") if isinstance(element, dict) else None
                    if aid is not None and aid in seen:
                        problems.append(
                            _err(f"duplicate action_id: {aid}", f"{here}/elements/{e}/action_id")
                        )
                    if isinstance(aid, str):
                        seen.add(aid)
        elif kind == "input":
            problems += _check_text(
                block.get("label"), f"{here}/label", limit=2000, plain_only=True
            )
            if "element" not in block:
                problems.append(_err("must provide an element", f"{here}/element"))
            else:
                problems += _check_element(block["element"], f"{here}/element")
            if "hint" in block:
                problems += _check_text(block["hint"], f"{here}/hint", limit=2000, plain_only=True)
        elif kind == "image":
            if not block.get("alt_text"):
                problems.append(_err("must provide alt_text", f"{here}/alt_text"))
            if not block.get("image_url") and not block.get("slack_file"):
                problems.append(_err("must provide image_url or slack_file", f"{here}/image_url"))
    return problems


def validate_view(view: Any) -> list[str]:
    """Problems Slack would report for a ``view`` given to ``views.*`` (empty when fine)."""
    if not isinstance(view, dict):
        return [_err("must be an object", "/view")]
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return [_err("must be one of modal, home", "/view/type")]
    problems = validate_blocks(view.get("blocks", []), pointer="/view/blocks", max_blocks=100)
    if kind == "modal":
        problems += _check_text(view.get("title"), "/view/title", limit=24, plain_only=True)
        for key in ("submit", "close"):
            if key in view:
                problems += _check_text(view[key], f"/view/{key}", limit=24, plain_only=True)
        has_input = any(
            isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or []
        )
        if has_input and "submit" not in view:
            problems.append(_err("must provide submit when there are input blocks", "/view"))
    if len(str(view.get("private_metadata", ""))) > 3000:
        problems.append(_err("must be less than 3001 characters", "/view/private_metadata"))
    for key in ("callback_id", "external_id"):
        if len(str(view.get(key, ""))) > 255:
            problems.append(_err("must be less than 256 characters", f"/view/{key}"))
    return problems


def _short_id() -> str:
    return secrets.token_urlsafe(4)[:5]


def interactive_elements(
    blocks: list[dict[str, Any]],
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Every (block, element) pair a person can interact with, in display order."""
    for block in blocks:
        kind = block.get("type")
        if kind == "input" and isinstance(block.get("element"), dict):
            yield block, block["element"]
        elif kind == "actions":
            for element in block.get("elements") or []:
                if isinstance(element, dict):
                    yield block, element
        elif (
            kind == "section"
            and isinstance(block.get("accessory"), dict)
            and block["accessory"].get("type") != "image"
        ):
            yield block, block["accessory"]


def input_elements(blocks: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for block, element in interactive_elements(blocks):
        if block.get("type") == "input":
            yield block, element


def assign_ids(blocks: list[dict[str, Any]]) -> None:
    """Give blocks and elements without ids random ones, as Slack does when it stores them."""
    for block in blocks:
        if isinstance(block, dict) and "block_id" not in block:
            block["block_id"] = _short_id()
    for _block, element in interactive_elements(blocks):
        if "action_id" not in element:
            element["action_id"] = _short_id()


def find_element(
    blocks: list[dict[str, Any]], action_id: str
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    for block, element in interactive_elements(blocks):
        if element.get("action_id") == action_id:
            return block, element
    return None


def _options_of(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += list((group or {}).get("options") or [])
    return options


def _option(element: dict[str, Any], value: str) -> dict[str, Any]:
    for option in _options_of(element):
        if option.get("value") == value:
            text = dict(option.get("text") or {})
            text.setdefault("emoji", True)
            chosen: dict[str, Any] = {"text": text, "value": value}
            if "description" in option:
                chosen["description"] = option["description"]
            return chosen
    if element.get("type") in ("external_select", "multi_external_select"):
        return {"text": {"type": "plain_text", "text": value, "emoji": True}, "value": value}
    known = [o.get("value") for o in _options_of(element)]
    raise ValueError(f"{value!r} is not an option of {element.get('action_id')!r}: {known}")


_MISSING = object()


def element_value(element: dict[str, Any], value: Any = _MISSING) -> dict[str, Any]:
    """The state/action value object for ``element`` holding ``value``.

    With no ``value`` the element's initial value is used, as Slack reports untouched inputs.
    Multi-selects and checkboxes take a list of option values / ids.
    """
    kind = element.get("type", "")
    out: dict[str, Any] = {"type": kind}
    given = value is not _MISSING
    if kind in _VALUE:
        out["value"] = (
            (None if value is None else str(value)) if given else element.get("initial_value")
        )
    elif kind in _OPTION:
        if given:
            out["selected_option"] = None if value is None else _option(element, str(value))
        else:
            initial = element.get("initial_option")
            out["selected_option"] = _option(element, initial["value"]) if initial else None
    elif kind in _OPTIONS:
        if given:
            values = [value] if isinstance(value, str) else list(value or [])
            out["selected_options"] = [_option(element, str(v)) for v in values]
        else:
            initial = element.get("initial_options") or []
            out["selected_options"] = [_option(element, o["value"]) for o in initial]
    elif kind in _SINGLE_ENTITY:
        key, initial_key = _SINGLE_ENTITY[kind]
        out[key] = value if given else element.get(initial_key)
    elif kind in _MULTI_ENTITY:
        key, initial_key = _MULTI_ENTITY[kind]
        if given:
            out[key] = [value] if isinstance(value, str) else list(value or [])
        else:
            out[key] = list(element.get(initial_key) or [])
    elif kind == "rich_text_input":
        if not given:
            out["rich_text_value"] = element.get("initial_value")
        else:
            section = {
                "type": "rich_text_section",
                "elements": [{"type": "text", "text": str(value or "")}],
            }
            out["rich_text_value"] = {"type": "rich_text", "elements": [section]}
    elif kind == "button":
        out["value"] = str(value) if given and value is not None else element.get("value")
        if "text" in element:
            out["text"] = element["text"]
        if "style" in element:
            out["style"] = element["style"]
    else:
        out["value"] = value if given else None
    return out


def _is_empty(state: dict[str, Any]) -> bool:
    for key, value in state.items():
        if key == "type":
            continue
        if value not in (None, "", []):
            return False
    return True


def state_values(
    blocks: list[dict[str, Any]], values: dict[str, Any], *, check_required: bool = True
) -> dict[str, dict[str, dict[str, Any]]]:
    """``view.state.values`` for a submission: ``{block_id: {action_id: value object}}``.

    ``values`` maps action_id → what the person entered. Every input block is reported (with its
    initial value if untouched); other interactive elements only when given a value. Unknown
    action ids raise ValueError, and so does an empty required input when ``check_required``
    (Slack's client would not let the person submit).
    """
    remaining = dict(values)
    state: dict[str, dict[str, dict[str, Any]]] = {}
    for block, element in interactive_elements(blocks):
        action_id: str = element["action_id"]  # a stored view's elements all have one (assign_ids)
        is_input = block.get("type") == "input"
        if action_id in remaining:
            item = element_value(element, remaining.pop(action_id))
        elif is_input:
            item = element_value(element)
        else:
            continue
        if is_input and check_required and not block.get("optional") and _is_empty(item):
            label = (block.get("label") or {}).get("text", action_id)
            raise ValueError(f"required input {label!r} ({action_id}) has no value")
        state.setdefault(block["block_id"], {})[action_id] = item
    if remaining:
        raise ValueError(f"no element with action_id {sorted(remaining)} in the view")
    return state
