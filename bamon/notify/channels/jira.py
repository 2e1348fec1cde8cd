"""Jira: one issue per failure episode, a comment on each repeat, a comment (and optionally a
transition such as "Done") on recovery — never a second issue for the same episode.

API (REST v2, Jira Cloud and Data Center alike):
https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-post
(create: 201 {"key": …}), .../api-group-issue-comments/#api-rest-api-2-issue-issueidorkey-comment-post,
.../api-group-issues/#api-rest-api-2-issue-issueidorkey-transitions-get and -post,
.../api-group-issue-search/#api-rest-api-2-search-get. Authentication: an Atlassian account
email with an API token (Basic, https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/)
or a Data Center personal access token (Bearer).

Episode → issue: kept in the alert state directory (calls.EpisodeTickets); the issue also
carries the episode's label, so a lost mapping (or a create whose answer never came) is found
again by a search instead of creating a duplicate.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bamon.notify.alert import Alert, Delivery, Kind, Outcome
from bamon.notify.channels.calls import Api, EpisodeTickets, Reply, basic, episode_label, failed, flow
from bamon.notify.channels.http import Retry


class Jira:
    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        self.name = name
        self.project = str(settings["project"])
        self.issue_type = str(settings.get("issue_type", "Task"))
        self.labels = [str(label) for label in settings.get("labels") or ["bamon"]]
        self.transition = str(settings.get("resolve_transition") or "")
        token, user = settings["token"], settings.get("user")
        self.retry = Retry.of(settings)
        self.api = Api(str(settings["url"]), basic(user, token) if user else f"Bearer {token}", self.retry)
        state = settings.get("state_dir")
        self.tickets = EpisodeTickets(name, Path(str(state)) if state else None)

    def _find(self, alert: Alert) -> Iterator[Reply]:
        """The open issue of this episode, by its label; yields the search call."""
        jql = f'project = "{self.project}" AND labels = "{episode_label(alert.dedup_key)}" AND statusCategory != Done'
        reply = self.api.request("GET", f"/rest/api/2/search?jql={quote(jql)}&fields=key&maxResults=1")
        yield reply
        issues = (reply.data or {}).get("issues") if reply.ok and isinstance(reply.data, dict) else None
        if isinstance(issues, list) and issues and isinstance(issues[0], dict) and issues[0].get("key"):
            self.tickets.put(alert.dedup_key, str(issues[0]["key"]))

    def _open(self, alert: Alert) -> Iterator[Reply]:
        key = self.tickets.get(alert.dedup_key)
        if key:
            yield self.api.request("POST", f"/rest/api/2/issue/{key}/comment",
                                {"body": f"{alert.title}\n\n{alert.body}"})
            return
        yield from self._find(alert)
        if self.tickets.get(alert.dedup_key):
            yield from self._open(alert)  # found: comment on it
            return
        fields = {"project": {"key": self.project}, "issuetype": {"name": self.issue_type},
                  "summary": alert.title[:250], "description": alert.body,
                  "labels": [*self.labels, episode_label(alert.dedup_key), f"check-{alert.check}"[:255]]}
        reply = self.api.request("POST", "/rest/api/2/issue", {"fields": fields})
        if reply.ok and not (isinstance(reply.data, dict) and reply.data.get("key")):
            reply = failed(Outcome.PERMANENT, f"{reply.detail} (no issue key in the answer)")
        elif reply.ok:
            self.tickets.put(alert.dedup_key, str(reply.data["key"]))
            reply.detail += f" (created {reply.data['key']})"
        yield reply

    def _close(self, alert: Alert) -> Iterator[Reply]:
        if not self.tickets.get(alert.dedup_key):
            yield from self._find(alert)
        key = self.tickets.get(alert.dedup_key)
        if not key:
            return  # no issue was opened for this episode: nothing to resolve
        yield self.api.request("POST", f"/rest/api/2/issue/{key}/comment", {"body": f"{alert.title}\n\n{alert.body}"})
        if self.transition:
            listed = self.api.request("GET", f"/rest/api/2/issue/{key}/transitions")
            yield listed
            wanted = [t["id"] for t in (listed.data or {}).get("transitions", [])
                      if self.transition in (t.get("name"), t.get("id"), (t.get("to") or {}).get("name"))]
            if not wanted:
                yield failed(Outcome.PERMANENT, f"issue {key} has no transition {self.transition!r}")
                return
            yield self.api.request("POST", f"/rest/api/2/issue/{key}/transitions", {"transition": {"id": wanted[0]}})
        self.tickets.drop(alert.dedup_key)

    def send(self, alert: Alert) -> Delivery:
        steps = self._close if alert.kind is Kind.RECOVERY else self._open
        return flow(self.name, lambda: steps(alert), self.retry)


def build(name: str, settings: Mapping[str, Any]) -> Jira:
    return Jira(name, settings)
