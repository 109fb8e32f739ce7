"""Falabella Seller Center: the client (``client.py``), request signing (``signing.py``) and the
models its answers are read into live in ``shared/models/marketplace.py`` (the port speaks them)."""

from shared.adapters.seller_center.client import SellerCenterClient, SellerCenterConfig, SellerCenterError

__all__ = ["SellerCenterClient", "SellerCenterConfig", "SellerCenterError"]
