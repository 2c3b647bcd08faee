"""What every worker of the demo must agree on, kept in the app's instance folder.

Under a multi-process server (``gunicorn -w 2 'demo_app:create_app()'``) each worker builds its
own app. They must share the session secret (or a member signed in on one worker is a stranger
to the next) and the simulated progress (or a step moved on one worker's fake RevU is missing
on the others'). Both live as files in ``app.instance_path``, which every worker on the host
reads.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from revu_widgets import RevUWidgets
from revu_widgets.fake import FakeRevU

#: Logs of simulated progress older than this are removed when a server starts.
STALE_LOG_SECONDS = 24 * 3600


def instance_secret(instance_path: str, name: str) -> str:
    """The secret stored as ``name`` in the instance folder, created once for every worker.

    The file is written under a temporary name and linked into place, which fails if another
    worker got there first: then that worker's secret is read, so all agree.
    """
    folder = Path(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if not target.exists():
        draft = folder / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
        draft.write_text(secrets.token_urlsafe(32))
        draft.chmod(0o600)
        try:
            os.link(draft, target)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return target.read_text().strip()


class SharedProgress:
    """Simulated progress as an append-only log that every worker replays onto its own fake.

    Each worker's fake RevU generates the same offers (they depend only on the member and the
    day); what differs is what was simulated since the server started. A step moved on one
    worker is appended here as the offer RevU would now send, and each worker, before it
    answers a request, applies the lines it has not seen and tells the kit with
    ``revu.refresh`` - as a RevU postback would.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._offset = 0

    @classmethod
    def for_server(cls, instance_path: str) -> SharedProgress:
        """The log of this server run: workers of one server share their parent's process id."""
        folder = Path(instance_path)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("demo-progress-*.jsonl"):
            if time.time() - old.stat().st_mtime > STALE_LOG_SECONDS:
                old.unlink(missing_ok=True)
        return cls(folder / f"demo-progress-{os.getppid()}.jsonl")

    def record(self, user_id: str, offer: dict[str, Any]) -> None:
        """Append the offer as it now is upstream (one write, so lines never interleave)."""
        line = json.dumps({"user_id": user_id, "offer": offer}, separators=(",", ":")) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def catch_up(self, fake: FakeRevU, revu: RevUWidgets) -> None:
        """Apply the lines this worker has not applied yet to its fake, refreshing each member."""
        with self._lock:
            try:
                with self.path.open("rb") as log:
                    log.seek(self._offset)
                    chunk = log.read()
            except FileNotFoundError:
                return
            complete = chunk[: chunk.rfind(b"\n") + 1]
            self._offset += len(complete)
            for raw in complete.splitlines():
                entry = json.loads(raw)
                user_id, offer = str(entry["user_id"]), entry["offer"]
                offers = [
                    offer if o.get("offer_id") == offer.get("offer_id") else o
                    for o in fake.offers_for(user_id)
                ]
                fake.set_offers(user_id, offers)
                revu.refresh(user_id)
