"""Stand-ins for the systems outside the platform: the civil registry and the SMS gateway.

Real HTTP servers speaking the real protocols, for `make run` (the embedded mode serves them),
the tests and the benchmarks. Production talks to the real systems; nothing here runs there.
"""
