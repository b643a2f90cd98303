"""Command-line interface (being written)."""

from __future__ import annotations


def main() -> None:
    """Entry point."""
