"""What the API key guard scanned over the whole run, added up across test workers.

Each worker (or the single pytest process) counts into :data:`TOTALS`; a worker hands its counts
to the controlling process when it finishes (``pytest_sessionfinish`` -> ``workeroutput``), and
the controller adds them up and prints one line in the terminal summary.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

#: The key under which a worker hands its counts over (``config.workeroutput``).
WORKER_OUTPUT_KEY = "revu_api_key_scan"


@dataclass(slots=True)
class ScanTotals:
    """What the key guard looked at."""

    responses: int = 0
    log_records: int = 0
    exceptions: int = 0
    leaks: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The counts as plain data, which xdist can send between processes."""
        return dataclasses.asdict(self)

    def add(self, counts: dict[str, Any]) -> None:
        """Add a worker's counts (from :meth:`as_dict`)."""
        self.responses += int(counts["responses"])
        self.log_records += int(counts["log_records"])
        self.exceptions += int(counts["exceptions"])
        self.leaks.extend(counts["leaks"])

    def summary(self) -> str | None:
        """The summary line, or ``None`` when no reliability test ran."""
        if not (self.responses or self.log_records):
            return None
        return (
            f"API key scan: {self.responses} responses, {self.log_records} log records, "
            f"{self.exceptions} exceptions scanned; {len(self.leaks)} leaks"
        )


TOTALS = ScanTotals()
