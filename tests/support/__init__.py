"""What the tests that run real processes share: one copy each of picking ports and
starting `poll serve` and a private redis-server, a TCP front as a load balancer, the
facilitator and phones that speak the live protocol, waiting for a condition,
launching Chromium, and the tests' own session script (tests/fixtures/sessions.yaml).

`tests.support.processes` has no pytest in it: the load generator (bench/) imports it too.
"""
