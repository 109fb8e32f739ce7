"""Falabella Seller Center: the client (``client.py``), request signing (``signing.py``), the rows its
answers are read into (``schemas.py``) and their translation into Thor's domain types (``translate.py``,
`shared.domain.marketplace`, what `MarketplacePort` returns); feeds (``feeds.py``)."""

from shared.adapters.seller_center.client import SellerCenterClient, SellerCenterConfig, SellerCenterError

__all__ = ["SellerCenterClient", "SellerCenterConfig", "SellerCenterError"]
