"""What the generator puts in a check's unit for recovery: BAMON_* variables for run-check.

run-check (bash builtins only) makes every skip and retry decision from these values and a few
file reads, so the success path stays free of Python and of extra processes. Each line is
emitted only when its feature is configured; max_concurrent when there are more checks than it.
"""

from __future__ import annotations

from bamon.config.model import Script
from bamon.paths import CIRCUIT, FAILING
from bamon.recovery.policy import load_centi, run_timeout
from bamon.units.escape import env_assignment


def environment(script: Script, load_threshold: float | None, max_concurrent: int | None) -> list[str]:
    """Commented Environment= lines for the [Service] section."""
    rec = script.recovery
    pairs: list[tuple[str, str, str]] = []  # (variable, value, why)
    if rec.retry is not None:
        pairs.append(("BAMON_RETRY_DELAYS", " ".join(map(str, rec.retry.delays())),
                      f"retry: {rec.retry.attempts} attempts, these seconds apart; one record each"))
    watch = watched_files(script)
    if watch:
        reasons = ([f"circuit breaker: open after {rec.breaker.failures} failed runs, {rec.breaker.cooldown}s cooldown"]
                   if rec.breaker is not None else [])
        reasons += ["dependencies: skipped while one is failing"] if rec.dependencies else []
        reasons[-1] += " (one stat a file; not empty: a closer look)"
        pairs.append(("BAMON_WATCH", " ".join(watch), "; ".join(reasons)))
    if rec.condition is not None:
        pairs.append(("BAMON_CONDITION", rec.condition, "runs only when this command succeeds, else skipped"))
    centi = load_centi(load_threshold)
    if centi is not None:
        pairs.append(("BAMON_LOAD_MAX", str(centi), "performance.load_threshold × 100: skipped above it"))
    if max_concurrent is not None:
        pairs.append(("BAMON_MAX_CONCURRENT", str(max_concurrent), "daemon.max_concurrent: waits beyond it"))
        pairs.append(("BAMON_TIMEOUT", str(script.limits.timeout), "the longest it waits is half of this"))
    lines = ["# --- recovery (bamon/recovery/): run-check reads these and unsets them ---"] if pairs else []
    for name, value, why in pairs:
        lines += [f"# {why}", f"Environment={env_assignment(name, value)}"]
    return lines  # (run-check counts the running checks in BAMON_SLICE, which every unit has)


def watched_files(script: Script) -> list[str]:
    """The state files run-check tells by their size, under the checks' state directory: empty (or
    missing) lets the run go on, anything else makes it look closer (run-check-watched)."""
    rec = script.recovery
    circuit = [f"{script.name}/{CIRCUIT}"] if rec.breaker is not None else []
    return circuit + [f"{name}/{FAILING}" for name in rec.dependencies]


def timeout(script: Script) -> int:
    """TimeoutStartSec=: all attempts with their delays fit, so no retry loop outlives the unit."""
    return run_timeout(script.limits.timeout, script.recovery.retry)
