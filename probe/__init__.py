"""probe: a black-box DAST probe runner for live HTTP APIs."""

from __future__ import annotations

__version__ = "0.1.0"
