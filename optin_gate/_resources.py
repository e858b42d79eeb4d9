"""Where the bundled data (schemas, sample) lives, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

__all__ = ["data_dir"]


def data_dir() -> Path:
    """The `data/` folder: inside the wheel as `optin_gate/_data`, else the checkout's `data/`."""
    installed = Path(__file__).with_name("_data")
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / "data"
