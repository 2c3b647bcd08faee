"""``python -m revu_widgets.fake``: serve the fake RevU Get Progress API from a terminal."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..client import is_loopback_host
from .app import FAKE_API_KEY, FakeRevU
from .dialects import DEFAULT_DIALECT, DIALECTS
from .server import FakeServer


def main(argv: Sequence[str] | None = None) -> int:
    """Run the fake until Ctrl+C; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m revu_widgets.fake",
        description="Serve a fake RevU Get Progress API with deterministic data.",
    )
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any)")
    parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds to wait before every answer"
    )
    parser.add_argument(
        "--api-key",
        default=FAKE_API_KEY,
        help="the key to accept (default: the fake's public test key)",
    )
    parser.add_argument(
        "--dialect",
        choices=DIALECTS,
        default=DEFAULT_DIALECT,
        help="field names to answer with (default: RevU's documented ones)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not print a line per request")
    args = parser.parse_args(argv)
    if args.latency < 0:
        parser.error("--latency must not be negative")

    if not is_loopback_host(args.host):
        print(
            f"warning: serving on {args.host} makes the fake reachable from other machines",
            file=sys.stderr,
        )
    fake = FakeRevU(args.api_key, latency=args.latency, dialect=args.dialect)
    log = None if args.quiet else (lambda line: print(line, flush=True))
    try:
        server = FakeServer(fake, args.host, args.port, log=log)
    except OSError as error:
        print(f"cannot listen on {args.host}:{args.port}: {error.strerror}", file=sys.stderr)
        return 1
    # The default key is public test data; a key given on the command line is not echoed.
    key = FAKE_API_KEY if args.api_key == FAKE_API_KEY else "(the key given with --api-key)"
    print(f"Fake RevU Get Progress API on {server.url}")
    print(f"  API key: {key}   (send it as the X-API-Key header)")
    print(f"  Dialect: {args.dialect}")
    print(f"  Try:     {server.url}/api/v1/users/demo-42/getprogress")
    print('  Users:   "new-..." no offers, "heavy-..." 1,200 offers, "banned-..." 403,')
    print("           any other id a history of 12-20 offers in every state")
    print("Press Ctrl+C to stop.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
