"""Large text in Table entities: a string property holds at most 32K characters (64 KiB)."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

CHUNK_CHARS = 30_000
CHUNK_BYTES = 60_000
MAX_CHUNKS = 15  # keeps an entity well under the 1 MiB limit


class TooLargeToStore(ValueError):
    pass


def pack_text(name: str, text: str) -> dict[str, str | bytes | int]:
    """`{name: text}` when small; otherwise zlib-compressed binary chunks `name_z0…name_zN`."""
    if len(text) <= CHUNK_CHARS:
        return {name: text}
    packed = zlib.compress(text.encode("utf-8"), 6)
    chunks = [packed[i : i + CHUNK_BYTES] for i in range(0, len(packed), CHUNK_BYTES)]
    if len(chunks) > MAX_CHUNKS:
        raise TooLargeToStore(f"{name} is too large to store ({len(packed)} bytes compressed)")
    fields: dict[str, str | bytes | int] = {f"{name}_z{i}": chunk for i, chunk in enumerate(chunks)}
    fields[f"{name}_chunks"] = len(chunks)
    return fields


def unpack_text(name: str, entity: Mapping[str, Any]) -> str:
    if name in entity and entity[name] is not None:
        return str(entity[name])
    count = int(entity.get(f"{name}_chunks") or 0)
    packed = b"".join(bytes(entity[f"{name}_z{i}"]) for i in range(count))
    return zlib.decompress(packed).decode("utf-8") if packed else ""
