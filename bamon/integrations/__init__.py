"""Integrations with the tools operators already run: Prometheus metrics (and through them
Grafana and Prometheus alerting rules), JUnit reports for CI pipelines. Alert channels for
Alertmanager, cloud monitors and ticketing live with the other channels in bamon/notify/channels/.
"""
