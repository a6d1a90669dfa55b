"""What a gateway worker keeps between calls: each resource's description, checked against the database.

The gateway reads a resource's fields, grades, subject settings and owner's name on every call (and an
in-process consumer such as services shows its title and fields' titles before reading), and they change
rarely (a steward's revision). A worker keeps them here, keyed by the resource's id and stamped with
the ``version`` and ``updated_at`` every revision bumps; each call reads those two columns in the same
statement as its grant check and uses an entry only when both still match, so a revision is seen by the
next call. What no revision stamps, the owning department's name, is refreshed after ``max_age_seconds``.

Grants are not kept: whether a grant is live is asked of the database on every call, so a revoked or
expired grant stops reads at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from zerotrip.datahub import grades


@dataclass(frozen=True)
class FieldEntry:
    name: str
    title: str
    grade: int
    type: str
    check_kind: str | None


@dataclass(frozen=True)
class ResourceEntry:
    """One version of a resource as the gateway needs it, fields in catalogue order."""

    id: int
    code: str
    title: str
    version: int
    updated_at: datetime
    subject_kind: str
    subject_field: str | None
    share_type: str
    owner_name: str
    fields: dict[str, FieldEntry]

    def shareable(self) -> list[str]:
        """The fields the catalogue lets out at all: a grade may cap a field below the resource's share
        type, and a grant made before the catalogue tightened does not reach past the cap."""
        return [
            name
            for name, f in self.fields.items()
            if grades.effective_share_type(self.share_type, f.grade) != "none"
        ]


class CatalogueCache:
    """Resource descriptions kept by one worker process (thread-safe; at most ``max_entries``)."""

    def __init__(
        self,
        max_age_seconds: float,
        *,
        max_entries: int = 1024,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_age = max_age_seconds
        self.max_entries = max_entries
        self._monotonic = monotonic
        self._entries: dict[int, tuple[ResourceEntry, float]] = {}
        self._lock = threading.Lock()

    def get(self, resource_id: int, *, version: int, updated_at: datetime) -> ResourceEntry | None:
        """The kept description when it is of this version and young enough, else None."""
        with self._lock:
            kept = self._entries.get(resource_id)
        if kept is None:
            return None
        entry, stored_at = kept
        if entry.version != version or entry.updated_at != updated_at:
            return None
        if self._monotonic() - stored_at >= self.max_age:
            return None
        return entry

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def put(self, entry: ResourceEntry) -> None:
        if self.max_age <= 0:
            return
        with self._lock:
            if entry.id not in self._entries and len(self._entries) >= self.max_entries:
                self._entries.pop(next(iter(self._entries)))  # the oldest-inserted makes room
            self._entries[entry.id] = (entry, self._monotonic())
