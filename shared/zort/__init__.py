"""ZORT (zortout.com) integration: typed webhook payloads live in ``shared.zort.webhooks``."""
