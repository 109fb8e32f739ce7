"""The OMS Order API (seeds/002): the client (``client.py``) and Thor's order as the OMS body
(``mapping.py``)."""

from shared.adapters.oms.client import OmsClient, OmsConfig, OmsError

__all__ = ["OmsClient", "OmsConfig", "OmsError"]
