"""Tax documents' PDFs (issue 19) in Blob Storage, container `thor-documents`, one blob per document
(`<tenant>/<internal order id>/<document id>.pdf`).

A PDF is kept here and nowhere else: a Table entity holds at most 1 MiB and a string property 64 KiB,
so the order keeps only the blob's name, size and hash. Written before the document is acknowledged
(a rewrite of the same name is the same bytes: the document id comes from the Idempotency-Key), read
by the upload from the queue.
"""

from __future__ import annotations

from azure.core.exceptions import ResourceNotFoundError

from shared.adapters.storage import Storage, once_more_on_broken_connection, storage_errors


class DocumentNotFound(LookupError):
    """The blob a document names is not there (deleted by hand): the upload fails, naming it."""


class DocumentStore:
    def __init__(self, storage: Storage):
        self.storage = storage

    def put(self, name: str, data: bytes) -> None:
        container = self.storage.blob_container()
        from azure.storage.blob import ContentSettings

        def upload() -> None:
            container.upload_blob(name, data, overwrite=True, content_settings=ContentSettings("application/pdf"))

        with storage_errors():
            once_more_on_broken_connection(upload)

    def get(self, name: str) -> bytes:
        container = self.storage.blob_container()
        with storage_errors():
            try:
                return bytes(container.download_blob(name).readall())
            except ResourceNotFoundError:
                raise DocumentNotFound(f"no blob {name!r} in {container.container_name}") from None
