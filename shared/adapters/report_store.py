"""Reports as CSV blobs (container `thor-reports`, blob `<tenant>/<yyyy-mm-dd>/<kind>.csv`) and
time-limited read links to them (SAS URLs).

Where the link's signature comes from:
- with a connection string (Azurite locally, or an account key): a service SAS signed with the
  account key (`generate_blob_sas(account_key=…)`), read-only, valid `hours`;
- with the managed identity (Azure; the storage account refuses shared keys, infra/main.bicep): a
  user delegation SAS: a user delegation key is asked of Blob Storage as the identity
  (`get_user_delegation_key`, needs the `generateUserDelegationKey` action, which Storage Blob Data
  Owner, the identity's role, includes), valid as long as the link, and the SAS is signed with it.
  A user delegation SAS lasts at most 7 days (so REPORT_LINK_HOURS ≤ 168) and stops working earlier
  if the key is revoked (`az storage account revoke-delegation-keys`).
The start time is set 5 minutes back for clock skew. Only `r` (read) is granted, on that one blob.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from shared.adapters.storage import _client_options, _credential, storage_errors
from shared.settings import StorageSettings

if TYPE_CHECKING:
    from azure.storage.blob import BlobServiceClient, ContainerClient

CONTAINER = "thor-reports"
SKEW = timedelta(minutes=5)


def blob_name(tenant: str, day: str, kind: str) -> str:
    return f"{tenant}/{day}/{kind}.csv"


class ReportStore:
    def __init__(self, settings: StorageSettings):
        self.settings = settings
        self._lock = threading.Lock()
        self._service: BlobServiceClient | None = None
        self._container: ContainerClient | None = None

    def service(self) -> BlobServiceClient:
        from azure.storage.blob import BlobServiceClient

        if self._service is None:
            if self.settings.connection_string:
                self._service = BlobServiceClient.from_connection_string(
                    self.settings.connection_string, **_client_options()
                )
            else:
                url = f"https://{self.settings.account_name}.blob.core.windows.net"
                self._service = BlobServiceClient(url, credential=_credential(self.settings), **_client_options())
        return self._service

    def container(self) -> ContainerClient:
        from azure.core.exceptions import ResourceExistsError

        with self._lock:
            if self._container is None:
                client = self.service().get_container_client(CONTAINER)
                with storage_errors():
                    try:
                        client.create_container()
                    except ResourceExistsError:
                        pass
                self._container = client
        return self._container

    def put(self, tenant: str, day: str, kind: str, text: str) -> str:
        from azure.storage.blob import ContentSettings

        name = blob_name(tenant, day, kind)
        with storage_errors():
            self.container().upload_blob(
                name,
                text.encode("utf-8"),
                overwrite=True,
                content_settings=ContentSettings(
                    content_type="text/csv; charset=utf-8",
                    content_disposition=f'attachment; filename="{tenant}-{day}-{kind}.csv"',
                ),
            )
        return name

    def get(self, tenant: str, day: str, kind: str) -> bytes | None:
        from azure.core.exceptions import ResourceNotFoundError

        with storage_errors():
            try:
                return bytes(self.container().download_blob(blob_name(tenant, day, kind)).readall())
            except ResourceNotFoundError:
                return None

    def link(self, name: str, now: datetime, hours: int) -> str:
        from azure.storage.blob import BlobSasPermissions, generate_blob_sas

        service = self.service()
        start, expiry = now - SKEW, now + timedelta(hours=hours)
        permission = BlobSasPermissions(read=True)
        if self.settings.connection_string:
            credential = service.credential
            sas = generate_blob_sas(
                account_name=credential.account_name,
                container_name=CONTAINER,
                blob_name=name,
                account_key=credential.account_key,
                permission=permission,
                start=start,
                expiry=expiry,
            )
        else:
            with storage_errors():
                key = service.get_user_delegation_key(start, expiry)
            sas = generate_blob_sas(
                account_name=str(service.account_name),
                container_name=CONTAINER,
                blob_name=name,
                user_delegation_key=key,
                permission=permission,
                start=start,
                expiry=expiry,
            )
        return f"{self.container().url}/{name}?{sas}"
