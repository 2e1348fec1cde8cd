"""Auto-recovery: retries with backoff, recovery actions, dependencies, conditions, the circuit
breaker and load awareness (issue 7).

The cheap decisions (skip while a dependency fails, while the circuit is open, while the host is
overloaded; retry a failed attempt) run in bamon/units/run-check with bash builtins, from values
the generator writes into the unit (policy.unit_environment). What needs Python runs on the
failure path only, in the OnFailure= notifier: opening the circuit (breaker.py) and recovery
actions (actions.py).
"""
