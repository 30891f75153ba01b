"""Where the shipped data folders are, in a source checkout and in an installed copy."""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # the incidentbot package


def data_dir(name: str) -> Path:
    """``templates`` or ``migrations``: inside the wheel, else at the top of the checkout."""
    installed = _PACKAGE / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name
