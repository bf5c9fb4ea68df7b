"""``PROFILESYNC_LOG_FORMAT=json``: one JSON object per log line, for log shippers.

The code logs in the house style, an event and then ``key=value`` pairs
(``"directory sync failed run=12 directory=corp error=..."``). This formatter
keeps that text as ``message`` and lifts the pairs into fields of their own
(``run``, ``directory``, ...), with the event (the words before the first pair)
as ``event``, so no call site has to change to be searchable by run or
directory. Values given with ``extra={...}`` become fields too.
"""

from __future__ import annotations

import logging
import re

from pythonjsonlogger.json import JsonFormatter

# key=value, where the value runs to the next " key=" or the end; keys are plain words.
_KEY = re.compile(r"(?:^|(?<=\s))([a-z_][a-z0-9_]*)=")
# Free text that may itself hold "x=y" (DNs, directory messages): such a value runs to the end.
_LAST_KEYS = {"error", "reason", "message"}
# Fields a pair may never overwrite: they describe the record itself.
_RESERVED = {"time", "level", "logger", "message", "event"}


def split_event(message: str) -> tuple[str, dict[str, str]]:
    """``"sync failed run=3 directory=corp"`` -> ``("sync failed", {"run": "3", "directory": "corp"})``."""
    keys = list(_KEY.finditer(message))
    if not keys:
        return message, {}
    event = message[:keys[0].start()].strip().rstrip(":")
    pairs: dict[str, str] = {}
    for index, key in enumerate(keys):
        name = key.group(1)
        if name in _LAST_KEYS or index + 1 == len(keys):
            pairs[name] = message[key.end():].strip()
            break
        pairs[name] = message[key.end():keys[index + 1].start()].strip()
    return event, pairs


class JsonLineFormatter(JsonFormatter):
    """time, level, logger, event, message, the message's key=value pairs, and any extra fields."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("timestamp", False)
        super().__init__(*args, **kwargs)

    def add_fields(self, log_record: dict, record: logging.LogRecord, message_dict: dict) -> None:
        super().add_fields(log_record, record, message_dict)
        message = record.getMessage()
        event, pairs = split_event(message)
        log_record["time"] = self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z"
        log_record["level"] = record.levelname
        log_record["logger"] = record.name
        log_record["event"] = event
        for key, value in pairs.items():
            if key not in _RESERVED and key not in log_record:
                log_record[key] = int(value) if value.isdigit() else value
        log_record.pop("levelname", None)
        log_record.pop("name", None)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        import time

        return time.strftime(datefmt or "%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
