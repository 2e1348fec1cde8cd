"""bamon: health checks on systemd timers, with history in journald and alerts on change."""

__version__ = "0.2.0"
