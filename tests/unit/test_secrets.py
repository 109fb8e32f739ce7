"""Secrets masked in what Thor prints (issue 17 item 5): log lines (message, arguments, traceback),
problem details, event reasons; shared.settings knows which settings are secret."""

from __future__ import annotations

import io
import logging

from shared import observability
from shared.settings import secret_values

ENV = {
    "CONSOLE_CSRF_KEY": "csrf-key-that-must-never-show",
    "OMS_TOKEN_FACO": "oms-token-of-faco",
    "ZORT_KEY1_SOPE": "zort-key1-of-sope",
    "MARKETPLACE_API_KEY_FAAR": "marketplace-api-key",
    "AzureWebJobsStorage": "DefaultEndpointsProtocol=https;AccountName=thor;AccountKey=c2VjcmV0LWFjY291bnQta2V5;",
    "ALERT_SLACK_WEBHOOK_URL_FACO": "https://hooks.slack.test/faco-secret-path",  # a tenant's own alert channel
    "OMS_TENANT_FACO": "faco",  # not a secret
    "MARKETPLACE_READY_TO_SHIP_FACO": "true",  # not a secret, and short
}


def test_every_secret_setting_is_known_and_nothing_else() -> None:
    found = set(secret_values(ENV))
    assert {"csrf-key-that-must-never-show", "oms-token-of-faco", "zort-key1-of-sope", "marketplace-api-key"} <= found
    assert "c2VjcmV0LWFjY291bnQta2V5" in found
    assert "https://hooks.slack.test/faco-secret-path" in found  # the account key inside the connection string
    assert "faco" not in found and "true" not in found


def test_log_lines_and_tracebacks_never_show_a_secret() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(observability.SecretFilter())
    logger = logging.getLogger("thor.test_secrets")
    logger.addHandler(handler)
    try:
        observability.register_secrets(secret_values(ENV))
        logger.warning("OMS answered 401 for Bearer %s", "oms-token-of-faco")
        try:
            raise RuntimeError("signed with marketplace-api-key")
        except RuntimeError:
            logger.exception("call failed")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "Bearer ***" in text and "signed with ***" in text
    assert not [secret for secret in secret_values(ENV) if secret in text]
    assert observability.mask("key csrf-key-that-must-never-show") == "key ***"
