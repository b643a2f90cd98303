"""`python -m probe` runs the command-line interface."""

from __future__ import annotations

from probe.cli import main

main()
