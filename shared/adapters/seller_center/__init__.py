"""Falabella Seller Center: the client (``client.py``), request signing (``signing.py``) and the
models its answers are read into (``schemas.py``)."""
from shared.adapters.seller_center.client import SellerCenterClient, SellerCenterConfig, SellerCenterError

__all__ = ["SellerCenterClient", "SellerCenterConfig", "SellerCenterError"]
