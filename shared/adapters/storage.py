"""Azure Storage clients (tables and the event queue), created lazily and reused.

Locally the connection string points at Azurite; in Azure the managed identity is used
(`AzureWebJobsStorage__accountName` …), chosen by settings alone. Storage failures surface as
`StorageUnavailable`, which the HTTP layer answers with 503 + Retry-After.

Every storage request is bounded in time, whatever the transport. Confirmed in azure-core 1.41
(`pipeline/transport/_requests_basic.py`, `RequestsTransport.send`): the transport takes
`connection_timeout` / `read_timeout` from each request's options, else from its own constructor
(`ConnectionConfiguration`, 300 s each); an SDK client builds its transport from the client's
keyword arguments only when it is given none (azure-storage-queue 12.18
`_shared/base_client.py`), so the client options alone were ignored with our own transport. Here
the transport is built with the timeouts, and a request hook (`raw_request_hook`, run on every try
after the retry policy) also puts them on each request, shortened to what is left of the caller's
`storage_deadline`; past the deadline a try is not sent at all. The queue SDK's default retry
policy waits 15 s and more between tries (`ExponentialRetry(initial_backoff=15)`), so the queue
client gets a `LinearRetry` with sub-second waits instead.

A table or queue is created on its first use by the instance, once per name (a lock per name, so
two first uses do not both create it). Waiting for that lock is bounded by the caller's deadline
too: a request does not wait behind a first use that has no deadline (a queue-triggered worker
creating a table while storage is frozen tries for up to `RETRY_POLICY.storage.worst_seconds()`),
it answers 503 within its own bound (drill seeds 4, 5, 9: a runner restarted during a storage
freeze answered its first webhooks after more than 12 s, its requests queued behind one lock).
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.data.tables import TableClient, TableServiceClient
from azure.storage.queue import (
    LinearRetry,
    QueueClient,
    QueueServiceClient,
    TextBase64DecodePolicy,
    TextBase64EncodePolicy,
)

from shared.domain.retries import RETRY_POLICY
from shared.ports import StorageUnavailable
from shared.settings import StorageSettings

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.core.pipeline import PipelineRequest
    from azure.core.pipeline.transport import RequestsTransport
    from azure.storage.blob import ContainerClient

P = ParamSpec("P")
R = TypeVar("R")

EVENTS_TABLE = "ThorEvents"
ORDERS_TABLE = "ThorOrders"
PRODUCTS_TABLE = "ThorProducts"
IDEMPOTENCY_TABLE = "ThorIdempotency"
CHECKPOINTS_TABLE = "ThorCheckpoints"
CLAIMS_TABLE = "ThorClaims"
ACTIVITY_TABLE = "ThorActivity"
STOCK_TABLE = "ThorStock"
INCIDENTS_TABLE = "ThorIncidents"
FEEDS_TABLE = "ThorFeeds"
PRICES_TABLE = "ThorPrices"
ALL_TABLES = (
    EVENTS_TABLE,
    ORDERS_TABLE,
    PRODUCTS_TABLE,
    IDEMPOTENCY_TABLE,
    CHECKPOINTS_TABLE,
    CLAIMS_TABLE,
    ACTIVITY_TABLE,
    STOCK_TABLE,
    INCIDENTS_TABLE,
    FEEDS_TABLE,
    PRICES_TABLE,
)
DOCUMENTS_CONTAINER = "thor-documents"  # tax documents' PDFs (issue 19), Blob Storage
BLOB_GET_BYTES = 256 * 1024
"""Bytes per GET of a blob download. azure-storage-blob 12.x reads each GET's answer with
`b"".join(list(stream))`, and the stream's `__len__` is the answer's size in bytes, so `list()` first
reserves 8 bytes per byte (a 1 MiB PDF downloaded in one GET held 9 MiB at its peak, tracemalloc):
256 KiB per GET keeps that at 2 MiB beside the blob, for 4 GETs per 1 MiB."""
EVENTS_QUEUE = "thor-events"
POISON_QUEUE = f"{EVENTS_QUEUE}-poison"

# A webhook sender waits seconds, not minutes: fail fast and let it retry after a 503.
# The numbers are the retry policy's (shared.domain.retries.RETRY_POLICY.storage), written there once.
CONNECT_TIMEOUT = RETRY_POLICY.storage.connect_timeout  # seconds to open a connection
READ_TIMEOUT = RETRY_POLICY.storage.read_timeout  # seconds to wait for (each part of) an answer
RETRY_TOTAL = RETRY_POLICY.storage.retries  # tries after the first: at most 3 × (connect + read) + waits for one call
CLIENT_OPTIONS = {
    "retry_total": RETRY_TOTAL,
    "retry_backoff_factor": RETRY_POLICY.storage.backoff,
    "connection_timeout": CONNECT_TIMEOUT,
    "read_timeout": READ_TIMEOUT,
}
POOL_SIZE = 64  # concurrent requests per service before connections are thrown away (default 10)

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("storage_deadline", default=None)


@contextlib.contextmanager
def storage_deadline(seconds: float) -> Iterator[None]:
    """Every storage request made inside (tries and retries together) ends within `seconds`;
    past it, a request raises StorageUnavailable. An HTTP function answers 503 instead of hanging."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def _left() -> float | None:
    """Seconds left of the caller's deadline; None when there is none."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


@contextlib.contextmanager
def _within_deadline(lock: threading.Lock, what: str) -> Iterator[None]:
    """Holds `lock`, waiting for it no longer than the caller's deadline (StorageUnavailable past it)."""
    left = _left()
    if not lock.acquire(timeout=-1 if left is None else max(left, 0)):
        raise StorageUnavailable(f"storage did not answer within the request's time bound (creating {what})")
    try:
        yield
    finally:
        lock.release()


def bound_request_time(request: PipelineRequest[Any]) -> None:
    """raw_request_hook: each try's connect and read timeouts, never past the caller's deadline."""
    options = request.context.options
    connect, read = CONNECT_TIMEOUT, READ_TIMEOUT
    deadline = _deadline.get()
    if deadline is not None:
        left = deadline - time.monotonic()
        if left <= 0.05:
            raise StorageUnavailable("storage did not answer within the request's time bound")
        connect, read = min(connect, left), min(read, left)
    options["connection_timeout"] = min(options.get("connection_timeout") or connect, connect)
    options["read_timeout"] = min(options.get("read_timeout") or read, read)


def _transport() -> RequestsTransport:
    """A requests transport with a connection pool big enough for the host's concurrency, and
    the timeouts (a transport given to a client does not take the client's timeout options)."""
    import requests
    from azure.core.pipeline.transport import RequestsTransport

    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=POOL_SIZE)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return RequestsTransport(
        session=session, session_owner=True, connection_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT
    )


def _client_options() -> dict[str, Any]:
    return dict(CLIENT_OPTIONS, transport=_transport(), raw_request_hook=bound_request_time)


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


def once_more_on_broken_connection(call: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Runs a storage call, and once more if the connection broke under it.

    The SDK does not retry a POST whose connection was reset (a pooled keep-alive connection the
    server had just closed): for inserts and enqueues a second try is safe, since an insert that
    did land answers 409 (a duplicate) and a second queue message is processed idempotently.
    """
    try:
        return call(*args, **kwargs)
    except (ServiceRequestError, ServiceResponseError) as error:
        if _timed_out(error):
            raise  # not a broken connection: the server is slow or gone, and the SDK retried already
        return call(*args, **kwargs)


def _timed_out(error: AzureError) -> bool:
    import requests

    inner = getattr(error, "inner_exception", None)
    return isinstance(inner, requests.exceptions.Timeout) or "timed out" in str(error).lower()


def _queue_retry() -> LinearRetry:
    """Sub-second waits between a queue call's tries (the SDK types them as whole seconds, but
    sleeps for any number: azure-storage-queue `_shared/policies.py`, `LinearRetry.get_backoff_time`)."""
    return LinearRetry(backoff=0.3, random_jitter_range=0.2, retry_total=RETRY_TOTAL)  # type: ignore[arg-type]


def _service_url(settings: StorageSettings, service: str) -> str:
    explicit = {"table": settings.table_uri, "queue": settings.queue_uri}.get(service)
    return explicit or f"https://{settings.account_name}.{service}.core.windows.net"


def _credential(settings: StorageSettings) -> TokenCredential:
    from azure.identity import DefaultAzureCredential, ManagedIdentityCredential  # only in Azure

    if settings.client_id:
        return ManagedIdentityCredential(client_id=settings.client_id)
    return DefaultAzureCredential()


class Storage:
    """Lazily built, shared clients for Thor's tables and queue; tables and queues made once."""

    def __init__(self, settings: StorageSettings):
        self.settings = settings
        self._lock = threading.Lock()  # guards `_creating`
        self._creating: dict[str, threading.Lock] = {}  # one per table or queue: its first use creates it
        self._tables: dict[str, TableClient] = {}
        self._queues: dict[str, QueueClient] = {}
        self._containers: dict[str, ContainerClient] = {}
        self._table_service: TableServiceClient | None = None
        self._queue_service: QueueServiceClient | None = None

    def table_service(self) -> TableServiceClient:
        if self._table_service is None:
            if self.settings.connection_string:
                self._table_service = TableServiceClient.from_connection_string(
                    self.settings.connection_string, **_client_options()
                )
            else:
                self._table_service = TableServiceClient(
                    _service_url(self.settings, "table"), credential=_credential(self.settings), **_client_options()
                )
        return self._table_service

    def queue_service(self) -> QueueServiceClient:
        if self._queue_service is None:
            options = dict(
                _client_options(),
                message_encode_policy=TextBase64EncodePolicy(),
                message_decode_policy=TextBase64DecodePolicy(),
                retry_policy=_queue_retry(),
            )
            if self.settings.connection_string:
                self._queue_service = QueueServiceClient.from_connection_string(
                    self.settings.connection_string, **options
                )
            else:
                self._queue_service = QueueServiceClient(
                    _service_url(self.settings, "queue"), credential=_credential(self.settings), **options
                )
        return self._queue_service

    def _creation_lock(self, name: str) -> threading.Lock:
        with self._lock:
            return self._creating.setdefault(name, threading.Lock())

    def blob_container(self, name: str = DOCUMENTS_CONTAINER) -> ContainerClient:
        """A Blob Storage container (made once); the SDK is imported on first use, not at cold start."""
        client = self._containers.get(name)
        if client is None:
            with _within_deadline(self._creation_lock(f"container:{name}"), f"container {name}"):
                client = self._containers.get(name)
                if client is None:
                    from azure.storage.blob import BlobServiceClient

                    options = dict(
                        _client_options(), max_single_get_size=BLOB_GET_BYTES, max_chunk_get_size=BLOB_GET_BYTES
                    )
                    if self.settings.connection_string:
                        service = BlobServiceClient.from_connection_string(self.settings.connection_string, **options)
                    else:
                        service = BlobServiceClient(
                            _service_url(self.settings, "blob"), credential=_credential(self.settings), **options
                        )
                    client = service.get_container_client(name)
                    with storage_errors():
                        try:
                            client.create_container()
                        except ResourceExistsError:
                            pass
                    self._containers[name] = client
        return client

    def table(self, name: str) -> TableClient:
        client = self._tables.get(name)
        if client is None:
            with _within_deadline(self._creation_lock(f"table:{name}"), f"table {name}"):
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
            with _within_deadline(self._creation_lock(f"queue:{name}"), f"queue {name}"):
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
