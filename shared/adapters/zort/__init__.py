"""The ZORT v4 API: the client (``client.py``) and the webhook URL fields it registers
(``webhooks.py``). ZORT's inbound webhooks are read in ``shared/zort``."""

from shared.adapters.zort.client import ZortApiClient, ZortApiConfig, ZortApiError

__all__ = ["ZortApiClient", "ZortApiConfig", "ZortApiError"]
