"""`python -m benchmarks`: measure the HTTP transports and print the figures as Markdown.

`python -m benchmarks burst` measures bursts instead: last-byte synchronisation against
`ScanClient.send` (benchmarks/burst.py).
"""

from __future__ import annotations

import sys

from benchmarks import burst, transport

if sys.argv[1:2] == ["burst"]:
    burst.main(sys.argv[2:])
else:
    transport.main()
