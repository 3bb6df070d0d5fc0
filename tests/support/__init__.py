"""What the tests that run real processes share: one copy each of starting `poll serve`
and a private redis-server, picking ports, the facilitator and phones that speak the
live protocol, waiting for a condition, and launching Chromium.

`tests.support.processes` has no pytest in it: the load generator (bench/) imports it too.
"""
