"""The whole local system: Azurite, the three sandboxes and Thor's runner, wired by one settings map.

Used by `make run` (fixed ports, data kept in .azurite/), by the tests and by the benchmark
(free ports, in-memory storage), so all three run exactly the same thing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from localdev.azurite import ROOT, Azurite, die_with_parent, free_port, wait_for_port
from localdev.sandboxes._server import RunningServer
from shared.settings import EXAMPLE_SETTINGS, local_values, read_tenants


def example_values() -> dict[str, str]:
    return local_values(EXAMPLE_SETTINGS)


def marketplace_tenants(values: dict[str, str]) -> dict[str, str]:
    """Each marketplace user's storefront, so the sandbox answers in that storefront's time zone."""
    tenants, _ = read_tenants(values)
    return {config.marketplace.user_id: tenant for tenant, config in tenants.items() if config.marketplace}


def sandbox_credentials(values: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """What each sandbox must accept, read from Thor's own settings so the two always agree."""
    marketplace, oms, zort = {}, {}, {}
    tenants, _ = read_tenants(values)
    for config in tenants.values():
        if config.marketplace:
            marketplace[config.marketplace.user_id] = config.marketplace.api_key
        if config.oms:
            oms[config.oms.token] = config.oms.tenant_header
        if config.zort and config.zort.storename:
            zort[config.zort.storename] = (config.zort.apikey, config.zort.apisecret)
    return marketplace, oms, zort


@dataclass
class Stack:
    values: dict[str, str] = field(default_factory=example_values)
    thor_port: int = 0
    sandbox_ports: tuple[int, int, int] = (0, 0, 0)
    alerts_port: int = 0  # the alert channels' sandbox (Teams, Slack, ACS e-mail on one port)
    azurite_ports: tuple[int, int, int] = (0, 0, 0)
    azurite_location: Path | None = None
    log_path: Path | None = None
    azurite: Azurite | None = None
    servers: dict[str, RunningServer] = field(default_factory=dict)
    runner: subprocess.Popen[bytes] | None = None

    def start_storage(self) -> Stack:
        self.azurite = Azurite(*self.azurite_ports, location=self.azurite_location).start()
        self.values["AzureWebJobsStorage"] = self.azurite.connection_string
        return self

    def start_sandboxes(self) -> Stack:
        from localdev.sandboxes import marketplace, oms, zort

        keys, tokens, stores = sandbox_credentials(self.values)
        apps = {
            "marketplace": marketplace.create_app(keys, tenants=marketplace_tenants(self.values)),
            "oms": oms.create_app(tokens),
            "zort": zort.create_app(stores),
        }
        for (name, app), port in zip(apps.items(), self.sandbox_ports, strict=True):
            self.servers[name] = RunningServer(app, port).start()
        self.values["MARKETPLACE_BASE_URL"] = self.servers["marketplace"].url
        self.values["OMS_BASE_URL"] = self.servers["oms"].url
        self.values["ZORT_API_BASE_URL"] = self.servers["zort"].url + "/v4"
        self.start_alerts_sandbox()
        return self

    def start_alerts_sandbox(self) -> Stack:
        """The alert channels' sandbox, and every tenant's alerts pointed at it (channels for all)."""
        from localdev.sandboxes import alerts

        self.servers["alerts"] = server = RunningServer(alerts.create_app(), self.alerts_port).start()
        self.values["ALERT_TEAMS_WEBHOOK_URL"] = f"{server.url}/teams/all"
        self.values["ALERT_SLACK_WEBHOOK_URL"] = f"{server.url}/slack/all"
        self.values["ACS_ENDPOINT"] = f"{server.url}/acs"
        self.values["ACS_ACCESS_KEY"] = alerts.LOCAL_ACS_KEY
        self.values["ACS_SENDER"] = self.values.get("ACS_SENDER") or "DoNotReply@thor.local"
        self.values["ALERT_EMAIL_TO"] = self.values.get("ALERT_EMAIL_TO") or "ops@thor.local"
        return self

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.values)
        return env

    def start_runner(self, extra_args: list[str] | None = None, stdout: IO[Any] | None = None) -> Stack:
        self.thor_port = self.thor_port or free_port()
        args = [
            sys.executable,
            "-m",
            "localdev.runner",
            "--port",
            str(self.thor_port),
            "--settings",
            os.devnull,
            *(extra_args or []),
        ]
        self.runner = subprocess.Popen(
            args,
            cwd=ROOT,
            env=self.environment(),
            stdout=stdout or subprocess.DEVNULL,
            stderr=subprocess.STDOUT if stdout else None,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        wait_for_port(self.thor_port, timeout=60)
        return self

    @property
    def thor_url(self) -> str:
        return f"http://127.0.0.1:{self.thor_port}"

    def stop_runner(self) -> None:
        if self.runner and self.runner.poll() is None:
            self.runner.terminate()
            try:
                self.runner.wait(10)
            except subprocess.TimeoutExpired:
                self.runner.kill()

    def stop(self) -> None:
        self.stop_runner()
        for server in self.servers.values():
            server.stop()
        if self.azurite:
            self.azurite.stop()


def present_azurite(stack: Stack) -> Azurite:
    """The stack's Azurite, which the caller started (`start_storage`)."""
    assert stack.azurite is not None, "the stack's storage was not started"
    return stack.azurite
