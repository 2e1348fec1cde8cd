"""The notifier's journald records: fields an operator can match, a readable MESSAGE."""

from __future__ import annotations

from bamon.journal import Journal
from bamon.notify.events import MESSAGE_IDS, logger


def test_an_event_is_one_journald_entry_with_upper_case_fields() -> None:
    sent: list[dict[str, str]] = []
    log = logger(Journal(sink=lambda **fields: sent.append(fields)), bamon_check="web")
    line = log.warning("alert.delivery", channel="ops", outcome="transient", detail="HTTP 503 Service Unavailable",
                       retry_after=None)
    (entry,) = sent
    assert entry["BAMON_EVENT"] == "alert.delivery" and entry["MESSAGE_ID"] == MESSAGE_IDS["alert.delivery"]
    assert entry["BAMON_CHECK"] == "web" and entry["CHANNEL"] == "ops" and entry["PRIORITY"] == "4"
    assert "RETRY_AFTER" not in entry  # None values are left out, not written as "None"
    assert entry["MESSAGE"] == line == ('alert.delivery bamon_check=web channel=ops outcome=transient '
                                        'detail="HTTP 503 Service Unavailable"')


def test_an_unknown_event_has_no_message_id() -> None:
    sent: list[dict[str, str]] = []
    logger(Journal(sink=lambda **fields: sent.append(fields))).info("something.else", n=1)
    assert "MESSAGE_ID" not in sent[0] and sent[0]["N"] == "1" and sent[0]["PRIORITY"] == "6"
