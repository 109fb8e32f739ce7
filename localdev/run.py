"""`make run`: Azurite (data kept in .azurite/), the sandboxes and Thor on http://localhost:7071.

Settings come from local.settings.json (copied from local.settings.example.json when missing), with,
when every system is a local sandbox, the demo's settings on top (localdev/demo.py DEMO_SETTINGS: the
order loop and price sync on for the demo tenant only, where local.settings.json keeps the example's
value).
Sandbox URLs in it (127.0.0.1:7101-7103) are served here; point them at the real systems to use
those instead (docs/settings.md). Ctrl-C stops everything this started.
"""

from __future__ import annotations

import shutil
import signal
import sys
import time
from urllib.parse import urlparse

from localdev.demo import DEMO_SETTINGS, with_demo_settings
from localdev.stack import Stack
from shared.settings import EXAMPLE_SETTINGS, LOCAL_SETTINGS, ROOT, local_values, read_local_settings

SETTINGS = LOCAL_SETTINGS
# Azurite 3.x keeps tables and queues in LokiJS databases saved every 5 s (autosaveInterval 5000) and on
# a clean exit (SIGINT / SIGTERM close them, saving what changed); a hard kill loses what came since.
DATA_KEPT = (
    "Azurite saves to disk every 5 s and when stopped cleanly (Ctrl-C): a hard kill "
    "(kill -9, a crash, power loss) loses what changed in the last ~5 s, acknowledged events included"
)
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def _local_port(url: str | None) -> int | None:
    parsed = urlparse(url or "")
    return parsed.port if parsed.hostname in LOCAL_HOSTS else None


def main() -> int:
    if not SETTINGS.exists():
        shutil.copy(EXAMPLE_SETTINGS, SETTINGS)
        print(f"created {SETTINGS.name} from {EXAMPLE_SETTINGS.name}")
    values = local_values(SETTINGS)
    values.setdefault("THOR_LOG_LEVEL", "INFO")  # show each request and event (keys never logged)
    port = int(read_local_settings(SETTINGS).get("Host", {}).get("LocalHttpPort", 7071))
    stack = Stack(
        values=values, thor_port=port, azurite_ports=(10000, 10001, 10002), azurite_location=ROOT / ".azurite"
    )
    try:
        stack.start_storage()
        urls = (values.get("MARKETPLACE_BASE_URL"), values.get("OMS_BASE_URL"), values.get("ZORT_API_BASE_URL"))
        ports = tuple(_local_port(u) for u in urls)
        if all(ports):
            # Only against the sandboxes: the demo's flows never reach a real marketplace.
            stack.values = values = with_demo_settings(values, local_values(EXAMPLE_SETTINGS))
            turned_on = [name for name in DEMO_SETTINGS if values.get(name) == DEMO_SETTINGS[name]]
            if turned_on:
                print(f"the demo's settings (localdev/demo.py): {', '.join(turned_on)}")
            stack.sandbox_ports = ports  # type: ignore[assignment]
            stack.alerts_port = _local_port(values.get("ACS_ENDPOINT")) or 7104
            stack.start_sandboxes()
            for name, server in stack.servers.items():
                print(f"{name} sandbox: {server.url}  (requests: {server.url}/_sandbox/requests)")
        else:
            print("external systems: using the URLs in local.settings.json (no sandboxes)")
        print(f"storage: Azurite on 127.0.0.1:10000-10002, data in .azurite/\n  {DATA_KEPT}")
        stack.start_runner(stdout=sys.stdout)
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        runner = stack.runner
        assert runner is not None
        while runner.poll() is None:
            time.sleep(0.5)
        return runner.returncode or 0
    except KeyboardInterrupt:
        print("\nstopping Thor, the sandboxes and Azurite")
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
