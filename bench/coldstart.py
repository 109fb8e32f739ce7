"""Phase 4: cold start. Importing `function_app` in a fresh interpreter, beside importing only the
third-party modules it pulls in, and proof that the import opens no connection.

Each figure is the median of several fresh subprocesses (run in turns), timed with perf_counter
around the import alone (interpreter start-up excluded), once as the environment runs Python and
once with a bytecode cache for every module. The dependency set is exactly the
third-party modules (files under site-packages) present in sys.modules after importing Thor.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from typing import Any

from localdev.azurite import ROOT

THOR_IMPORT = r"""
import json, socket, sys, time
attempts = []
def refuse(kind):
    def blocked(*args, **kwargs):
        attempts.append(f"{kind} {args[1:] if kind == 'socket.connect' else args}"[:200])
        raise OSError(f"benchmark: no network during import ({kind})")
    return blocked
socket.socket.connect = refuse("socket.connect")
socket.socket.connect_ex = refuse("socket.connect_ex")
socket.create_connection = refuse("socket.create_connection")
socket.getaddrinfo = refuse("socket.getaddrinfo")
began = time.perf_counter()
import function_app
seconds = time.perf_counter() - began
third_party = [name for name, module in list(sys.modules.items())
               if "site-packages" in (getattr(module, "__file__", None) or "")]
print(json.dumps({"seconds": seconds, "attempts": attempts, "functions": len(function_app.app.get_functions()),
                  "third_party": third_party}))
"""

DEPS_IMPORT = r"""
import importlib, json, sys, time
names = json.loads(sys.stdin.read())
failed = []
began = time.perf_counter()
for name in names:
    if name not in sys.modules:
        try:
            importlib.import_module(name)
        except Exception as error:
            failed.append(f"{name}: {type(error).__name__}")
seconds = time.perf_counter() - began
print(json.dumps({"seconds": seconds, "failed": failed}))
"""


def _python(
    code: str, env: dict[str, Any], stdin: str = "", extra: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *(extra or []), "-c", code],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _json_run(code: str, env: dict[str, Any], stdin: str = "") -> dict[str, Any]:
    done = _python(code, env, stdin)
    if done.returncode != 0:
        raise RuntimeError(f"import subprocess failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


OWN_PACKAGES = ("function_app", "functions", "shared")


def importtime_split(env: dict[str, Any], third_party_roots: set[str], limit: int = 8) -> dict[str, Any]:
    """`-X importtime` of `import function_app`: self time summed by origin (Thor, third party,
    standard library) and Thor's own slowest modules by self time."""
    done = _python("import function_app", env, extra=["-X", "importtime"])
    totals = {"thor_ms": 0.0, "third_party_ms": 0.0, "stdlib_ms": 0.0}
    own: list[dict[str, Any]] = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| *(\S+)", line)
        if not match:
            continue
        self_ms, name = int(match.group(1)) / 1000, match.group(3)
        root = name.split(".")[0]
        if root in OWN_PACKAGES:
            totals["thor_ms"] += self_ms
            own.append({"module": name, "self_ms": round(self_ms, 1)})
        elif root in third_party_roots:
            totals["third_party_ms"] += self_ms
        else:
            totals["stdlib_ms"] += self_ms
    own.sort(key=lambda row: -row["self_ms"])
    return {**{k: round(v, 1) for k, v in totals.items()}, "thor_slowest": own[:limit]}


def compare(env: dict[str, Any], runs: int) -> dict[str, Any]:
    """Median import times of Thor and of its third-party modules alone, in turns, fresh interpreters."""
    first = _json_run(THOR_IMPORT, env)  # also warms the bytecode and file caches
    deps = json.dumps(first["third_party"])
    _json_run(DEPS_IMPORT, env, deps)
    thor_times, deps_times, attempts, failed = [], [], list(first["attempts"]), []
    for _ in range(runs):
        thor = _json_run(THOR_IMPORT, env)
        thor_times.append(thor["seconds"])
        attempts += thor["attempts"]
        dep = _json_run(DEPS_IMPORT, env, deps)
        deps_times.append(dep["seconds"])
        failed = dep["failed"]
    return {
        "thor_import_ms": round(statistics.median(thor_times) * 1000, 1),
        "deps_import_ms": round(statistics.median(deps_times) * 1000, 1),
        "ratio": round(statistics.median(thor_times) / statistics.median(deps_times), 3),
        "thor_runs_ms": [round(t * 1000, 1) for t in thor_times],
        "deps_runs_ms": [round(t * 1000, 1) for t in deps_times],
        "third_party": first["third_party"],
        "deps_import_failures": failed,
        "attempts": attempts,
        "functions": first["functions"],
    }


def measure(env: dict[str, Any], runs: int = 5, progress: Callable[..., None] = print) -> dict[str, Any]:
    """As this environment runs Python (PYTHONDONTWRITEBYTECODE as set: here Thor's own modules are
    compiled from source at every start, its dependencies have pip's .pyc), and with a bytecode cache
    for everything (PYTHONPYCACHEPREFIX in a temporary folder, so nothing is written in the project)."""
    as_is = compare(env, runs)
    with tempfile.TemporaryDirectory(prefix="thor-bench-pyc-") as cache:
        cached_env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cached = compare({**cached_env, "PYTHONPYCACHEPREFIX": cache}, runs)
    roots = sorted({name.split(".")[0] for name in as_is["third_party"]})
    attempts = as_is["attempts"] + cached["attempts"]
    result = {
        "runs": runs,
        "dont_write_bytecode": env.get("PYTHONDONTWRITEBYTECODE", ""),
        **{k: v for k, v in as_is.items() if k not in ("third_party", "attempts")},
        "cached": {k: v for k, v in cached.items() if k not in ("third_party", "attempts", "functions")},
        "third_party_packages": roots,
        "third_party_modules": len(as_is["third_party"]),
        "connect_attempts": len(attempts),
        "attempt_details": attempts[:10],
        "import_succeeded": True,
        "importtime": importtime_split(env, set(roots)),
    }
    progress(
        f"  cold start: import function_app {result['thor_import_ms']} ms, deps alone "
        f"{result['deps_import_ms']} ms (bytecode cached: {cached['thor_import_ms']} vs "
        f"{cached['deps_import_ms']} ms), {result['connect_attempts']} connect attempts"
    )
    return result
