"""The package's layers, as incidentbot/__init__.py describes them, checked on the imports.

Each layer may import from itself and the layers before it in ``LAYERS``, never after; only the
adapters and tools may import Slack's SDKs. Imports are read from the source (not run), so a
lazy import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import incidentbot

PACKAGE = Path(incidentbot.__file__).resolve().parent
# In order: each may import itself and the ones before it.
LAYERS = ["domain", "infra", "postmortem", "services", "slack", "web"]
# The local Slack workspace stands beside the bot: it knows the app's manifest, nothing more.
EMULATOR = {"emulator": ["domain", "slack"]}
# Composition roots build and run the rest (the CLI, the local stack and demo, the playground):
# they may import anything, and nothing else imports them.
ROOTS = {"entrypoints", "playground"}
SPEAKS_SLACK = {"slack", "web", "entrypoints", "emulator", "playground"}
SLACK_SDKS = ("slack_sdk", "slack_bolt")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # ``from incidentbot import services`` imports the subpackage.
            if node.module == "incidentbot":
                found.update(f"incidentbot.{alias.name}" for alias in node.names)
    return found


def package_of(path: Path, package: Path = PACKAGE) -> str:
    return path.relative_to(package).parts[0]


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if len(p.relative_to(PACKAGE).parts) > 1)


def test_the_root_package_holds_only_the_layers() -> None:
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "__main__.py"]
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert packages == {*LAYERS, *EMULATOR, *ROOTS}


def allowed_for(layer: str) -> set[str]:
    if layer in ROOTS:
        return {*LAYERS, *EMULATOR, *ROOTS}
    if layer in EMULATOR:
        return {layer, *EMULATOR[layer]}
    return set(LAYERS[: LAYERS.index(layer) + 1])


def wrong_imports(path: Path, package: Path = PACKAGE) -> list[str]:
    layer = package_of(path, package)
    allowed = allowed_for(layer)
    wrong = []
    for module in imported_modules(path):
        parts = module.split(".")
        inside = parts[0] == "incidentbot" and len(parts) > 1 and parts[1] != "__version__"
        if inside and parts[1] not in allowed:
            wrong.append(module)
        if parts[0] in SLACK_SDKS and layer not in SPEAKS_SLACK:
            wrong.append(module)
    return sorted(wrong)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_module_imports_only_from_its_layer_and_those_before_it(path: Path) -> None:
    wrong = wrong_imports(path)
    assert not wrong, f"{path.relative_to(PACKAGE)} imports {wrong}"


def test_the_layer_check_sees_a_wrong_import(tmp_path: Path) -> None:
    """The check above can fail: a domain module importing the services (at the top) or Slack
    (lazily, inside a function) is caught."""
    (tmp_path / "domain").mkdir()
    sample = tmp_path / "domain" / "sample.py"
    sample.write_text(
        "from incidentbot import services\n"
        "from incidentbot.domain.errors import IncidentError\n"
        "def later():\n"
        "    from slack_sdk import WebClient\n"
    )
    assert wrong_imports(sample, tmp_path) == ["incidentbot.services", "slack_sdk"]


def test_the_feature_map_names_only_files_that_exist() -> None:
    """docs/architecture.md says where each feature lives; a move that forgets it fails here."""
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"`((?:[a-z_]+/)*[a-z_]+\.(?:py|toml|txt|md))`", doc))
    assert len(named) > 30
    roots = [PACKAGE, *(p for p in PACKAGE.iterdir() if p.is_dir()), PACKAGE.parent / "tests"]
    roots += [PACKAGE.parent, PACKAGE.parent / "docs", PACKAGE / "domain"]
    missing = sorted(name for name in named if not any((root / name).exists() for root in roots))
    assert not missing, f"docs/architecture.md names files that do not exist: {missing}"
