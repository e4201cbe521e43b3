"""`python -m demo_shop --host 127.0.0.1 --port 8001`: serve the demo shop until interrupted."""

from __future__ import annotations

import argparse
import signal
import sys

from demo_shop.server import make_server
from demo_shop.variants import VARIANTS


def _stop(signum, frame) -> None:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m demo_shop", description="Serve the Argus demo shop.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    parser.add_argument("--variant", choices=VARIANTS, default="original",
                        help="serve a changed shop (see demo_shop/variants.py); <variant>.localhost hosts choose too")
    options = parser.parse_args(argv)
    server = make_server(options.host, options.port, verbose=options.verbose, variant=options.variant)
    # SIGTERM (devstack, test fixtures) ends serve_forever like Ctrl-C does, so the socket is closed.
    signal.signal(signal.SIGTERM, _stop)
    print(f"Demo shop on http://{options.host}:{server.server_address[1]}/", flush=True)
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
