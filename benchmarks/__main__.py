"""`python -m benchmarks`: measure the HTTP transports and print the figures as Markdown."""

from __future__ import annotations

from benchmarks.transport import main

main()
