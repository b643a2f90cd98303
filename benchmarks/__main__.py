"""`python -m benchmarks`: measure the HTTP transports and print the figures as Markdown.

`python -m benchmarks burst` measures bursts instead: last-byte synchronisation against
`ScanClient.send` (benchmarks/burst.py); `python -m benchmarks jwt_secrets` times the offline
weak-secret search of the jwt probe (benchmarks/jwt_secrets.py); `python -m benchmarks
injection_judges` times the injection probe's pure judges on large and hostile bodies
(benchmarks/injection_judges.py).
"""

from __future__ import annotations

import sys

from benchmarks import burst, injection_judges, jwt_secrets, transport

if sys.argv[1:2] == ["burst"]:
    burst.main(sys.argv[2:])
elif sys.argv[1:2] == ["jwt_secrets"]:
    jwt_secrets.main(sys.argv[2:])
elif sys.argv[1:2] == ["injection_judges"]:
    injection_judges.main(sys.argv[2:])
else:
    transport.main()
