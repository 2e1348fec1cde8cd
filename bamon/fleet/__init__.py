"""The fleet: every host's checks as the Prometheus that scrapes them all sees them.

bamon keeps no central server. Each host runs its own checks and exports them (/metrics or the
node_exporter textfile, bamon/integrations/prometheus.py); `bamon fleet status` and the
dashboard's fleet page ask that Prometheus (`source.py`, the only module that talks to it) and
turn its answers into one row per host × check (`view.py`, pure). docs/fleet.md has the setup.
"""
