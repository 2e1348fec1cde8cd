"""Security views of the checks: exposure scores, script scans, the compliance report."""
