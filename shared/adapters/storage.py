"""Azure Storage clients (tables and the event queue), created lazily and reused.

Locally the connection string points at Azurite; in Azure the managed identity is used
(`AzureWebJobsStorage__accountName` …), chosen by settings alone. Storage failures surface as
`StorageUnavailable`, which the HTTP layer answers with 503 + Retry-After.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Iterator

from azure.core.exceptions import (AzureError, HttpResponseError, ResourceExistsError, ResourceNotFoundError,
                                   ServiceRequestError, ServiceResponseError)
from azure.data.tables import TableClient, TableServiceClient
from azure.storage.queue import QueueClient, QueueServiceClient, TextBase64DecodePolicy, TextBase64EncodePolicy

from shared.ports import StorageUnavailable
from shared.settings import StorageSettings

EVENTS_TABLE = "ThorEvents"
ORDERS_TABLE = "ThorOrders"
PRODUCTS_TABLE = "ThorProducts"
IDEMPOTENCY_TABLE = "ThorIdempotency"
CHECKPOINTS_TABLE = "ThorCheckpoints"
ALL_TABLES = (EVENTS_TABLE, ORDERS_TABLE, PRODUCTS_TABLE, IDEMPOTENCY_TABLE, CHECKPOINTS_TABLE)
EVENTS_QUEUE = "thor-events"
POISON_QUEUE = f"{EVENTS_QUEUE}-poison"

# A webhook sender waits seconds, not minutes: fail fast and let it retry after a 503.
CLIENT_OPTIONS = {"retry_total": 2, "retry_backoff_factor": 0.2, "connection_timeout": 3, "read_timeout": 10}
POOL_SIZE = 64  # concurrent requests per service before connections are thrown away (default 10)


def _transport():
    """A requests transport with a connection pool big enough for the host's concurrency."""
    import requests
    from azure.core.pipeline.transport import RequestsTransport

    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=POOL_SIZE)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return RequestsTransport(session=session, session_owner=True)


@contextlib.contextmanager
def storage_errors() -> Iterator[None]:
    """Turns transport and server errors into StorageUnavailable; lets 4xx answers through."""
    try:
        yield
    except (ResourceExistsError, ResourceNotFoundError):
        raise
    except HttpResponseError as error:
        if error.status_code is not None and error.status_code < 500 and error.status_code != 408:
            raise
        raise StorageUnavailable(str(error).splitlines()[0]) from error
    except AzureError as error:
        raise StorageUnavailable(str(error).splitlines()[0]) from error


def once_more_on_broken_connection(call, *args, **kwargs):
    """Runs a storage call, and once more if the connection broke under it.

    The SDK does not retry a POST whose connection was reset (a pooled keep-alive connection the
    server had just closed): for inserts and enqueues a second try is safe, since an insert that
    did land answers 409 (a duplicate) and a second queue message is processed idempotently.
    """
    try:
        return call(*args, **kwargs)
    except (ServiceRequestError, ServiceResponseError):
        return call(*args, **kwargs)


def _service_url(settings: StorageSettings, service: str) -> str:
    explicit = settings.table_uri if service == "table" else settings.queue_uri
    return explicit or f"https://{settings.account_name}.{service}.core.windows.net"


def _credential(settings: StorageSettings):
    from azure.identity import DefaultAzureCredential, ManagedIdentityCredential  # only in Azure

    if settings.client_id:
        return ManagedIdentityCredential(client_id=settings.client_id)
    return DefaultAzureCredential()


class Storage:
    """Lazily built, shared clients for Thor's tables and queue; tables and queues made once."""

    def __init__(self, settings: StorageSettings):
        self.settings = settings
        self._lock = threading.Lock()
        self._tables: dict[str, TableClient] = {}
        self._queues: dict[str, QueueClient] = {}
        self._table_service: TableServiceClient | None = None
        self._queue_service: QueueServiceClient | None = None

    def table_service(self) -> TableServiceClient:
        if self._table_service is None:
            if self.settings.connection_string:
                self._table_service = TableServiceClient.from_connection_string(
                    self.settings.connection_string, transport=_transport(), **CLIENT_OPTIONS)
            else:
                self._table_service = TableServiceClient(
                    _service_url(self.settings, "table"), credential=_credential(self.settings),
                    transport=_transport(), **CLIENT_OPTIONS)
        return self._table_service

    def queue_service(self) -> QueueServiceClient:
        if self._queue_service is None:
            options = dict(CLIENT_OPTIONS, transport=_transport(), message_encode_policy=TextBase64EncodePolicy(),
                           message_decode_policy=TextBase64DecodePolicy())
            if self.settings.connection_string:
                self._queue_service = QueueServiceClient.from_connection_string(
                    self.settings.connection_string, **options)
            else:
                self._queue_service = QueueServiceClient(
                    _service_url(self.settings, "queue"), credential=_credential(self.settings), **options)
        return self._queue_service

    def table(self, name: str) -> TableClient:
        client = self._tables.get(name)
        if client is None:
            with self._lock:
                client = self._tables.get(name)
                if client is None:
                    with storage_errors():
                        self.table_service().create_table_if_not_exists(name)
                    client = self.table_service().get_table_client(name)
                    self._tables[name] = client
        return client

    def queue(self, name: str = EVENTS_QUEUE) -> QueueClient:
        client = self._queues.get(name)
        if client is None:
            with self._lock:
                client = self._queues.get(name)
                if client is None:
                    client = self.queue_service().get_queue_client(name)
                    with storage_errors():
                        try:
                            client.create_queue()
                        except ResourceExistsError:
                            pass
                    self._queues[name] = client
        return client

    def ping(self) -> None:
        """Cheap reachability check for the health endpoint (raises StorageUnavailable)."""
        with storage_errors():
            next(iter(self.table_service().list_tables(results_per_page=1)), None)
