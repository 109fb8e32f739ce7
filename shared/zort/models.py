"""The typed payloads of ZORT's webhook events (one model per document type; which method sends
which model is the method table, shared.zort.methods). Conventions: shared.zort.fields."""

from collections.abc import Iterator
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, RootModel

from shared.zort.fields import (
    Money,
    OptInt,
    Quantity,
    RequiredStr,
    ZortDate,
    ZortDateOrDateTime,
    ZortDateTime,
    ZortId,
    _none_to_empty,
)


class ZortModel(BaseModel):
    """Base of every ZORT payload object: unknown keys allowed and kept."""

    # defer_build: the 17 payload schemas are built on first use, not at import (cold start).
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True, defer_build=True)


class ProductRef(ZortModel):
    """DELETEPRODUCT."""

    id: ZortId
    sku: RequiredStr


class Product(ProductRef):
    """ADDPRODUCT, UPDATEPRODUCT."""

    name: str | None = None
    sellprice: Money = None
    purchaseprice: Money = None
    unittext: str | None = None
    weight: Quantity = None
    barcode: str | None = None
    category: str | None = None


class ProductQuantity(ProductRef):
    """UPDATEPRODUCTQUANTITY."""

    name: str | None = None
    stock: Quantity = None
    availablestock: Quantity = None


class LineItem(ZortModel):
    """An item of ``list`` in orders, purchases and returns."""

    productid: OptInt = None
    sku: RequiredStr
    name: str | None = None
    number: Quantity = None
    pricepernumber: Money = None
    discount: str | None = None
    totalprice: Money = None


class TransferLine(ZortModel):
    """An item of a transfer's ``list``."""

    sku: RequiredStr
    name: str | None = None
    number: Quantity = None


# Module-level aliases: inside the classes the field called ``list`` shadows the builtin.
LineItems = Annotated[list[LineItem], BeforeValidator(_none_to_empty)]
TransferLines = Annotated[list[TransferLine], BeforeValidator(_none_to_empty)]


class OrderRef(ZortModel):
    """DELETEORDER, DELETEPURCHASEORDER, DELETERETURNORDER, DELETERETURNPURCHASEORDER."""

    id: ZortId
    number: RequiredStr


class ZortDocument(OrderRef):
    """Fields shared by orders, purchase orders, return orders and return purchases."""

    customerid: OptInt = None
    customername: str | None = None
    customeridnumber: str | None = None
    customerphone: str | None = None
    customeremail: str | None = None
    customeraddress: str | None = None
    description: str | None = None
    reference: str | None = None
    vattype: OptInt = None
    list: LineItems = Field(default_factory=list)
    discount: str | None = None
    vatamount: Money = None
    amount: Money = None
    paymentamount: Money = None
    paymentstatus: str | None = None
    status: str | None = None


class Order(ZortDocument):
    """ADDORDER, UPDATEORDER, UPDATEORDERPAYMENT.

    ``reference`` is the seller's own reference (Thor's order id when Thor created the
    order); ``number`` is ZORT's document number ("SO-0001").
    """

    orderdate: ZortDateTime = None
    orderdateString: ZortDate = None
    customerbranchname: str | None = None
    customerbranchno: str | None = None
    shippingdate: ZortDateOrDateTime = None
    shippingchannel: str | None = None
    shippingamount: Money = None
    shippingvat: Money = None
    shippingname: str | None = None
    shippingaddress: str | None = None
    shippingphone: str | None = None
    shippingemail: str | None = None
    trackingno: str | None = None
    saleschannel: str | None = None
    isCOD: bool | None = None


class PurchaseOrder(ZortDocument):
    """ADDPURCHASEORDER, UPDATEPURCHASEORDER, UPDATEPURCHASEORDERPAYMENT."""

    purchaseorderdate: ZortDateTime = None
    purchaseorderdateString: ZortDate = None


class ReturnOrder(ZortDocument):
    """ADDRETURNORDER, UPDATERETURNORDER, UPDATERETURNORDERPAYMENT."""

    returnorderdate: ZortDateTime = None
    returnorderdateString: ZortDate = None
    referenceid: OptInt = None


class ReturnPurchaseOrder(ZortDocument):
    """ADDRETURNPURCHASEORDER, UPDATERETURNPURCHASEORDER, UPDATERETURNPURCHASEORDERPAYMENT."""

    returnpurchaseorderdate: ZortDateTime = None
    returnpurchaseorderdateString: ZortDate = None
    referenceid: OptInt = None


class Transfer(ZortModel):
    """ADDTRANSFER, UPDATETRANSFER."""

    id: ZortId
    number: RequiredStr
    status: str | None = None
    transferdate: ZortDate = None
    fromwarehousecode: str | None = None
    towarehousecode: str | None = None
    list: TransferLines = Field(default_factory=list)


class OrderTracking(ZortModel):
    """One entry of UPDATEORDERTRACKING's array; ``trackingno`` must be present (may be null)."""

    trackingno: str | None
    trackingurl: str | None = None
    shippingdate: ZortDateOrDateTime = None


class OrderTrackingList(RootModel[Annotated[list[OrderTracking], Field(min_length=1)]]):
    """UPDATEORDERTRACKING: a non-empty JSON array of tracking entries.

    The order it belongs to is only named by the query (``id``, ``number``): see ZortQuery.
    """

    def latest(self) -> OrderTracking | None:
        """The last entry with a non-blank ``trackingno``, or None."""
        for entry in reversed(self.root):
            if entry.trackingno and entry.trackingno.strip():
                return entry
        return None

    def __iter__(self) -> Iterator[OrderTracking]:  # type: ignore[override]
        """Iterate the entries (BaseModel would iterate ``("root", [...])``)."""
        return iter(self.root)

    def __len__(self) -> int:
        return len(self.root)

    def __getitem__(self, index: int) -> OrderTracking:
        return self.root[index]
