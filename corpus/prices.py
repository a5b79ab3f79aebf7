"""The price sheet: every figure that turns metered resources into money.

Defaults live in `prices.yaml` beside this module, each with its source and the
date it was read. A user's file (on-premise rates, a grant's negotiated prices)
is merged over them key by key, so it names only what it changes. A sheet that
cannot price a run (a missing instance, a negative price) is refused with the
key named, before anything is computed.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_SHEET = Path(__file__).with_name("prices.yaml")


class PriceError(ValueError):
    """A price sheet that cannot be used; the message names the file and key."""


class Price(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: float = Field(ge=0)
    source: str = Field(min_length=1, description="where the figure comes from (a URL or 'our assumption: ...')")
    date: str = Field(min_length=1, description="when it was read")
    note: str | None = None
    what: str | None = None


class Instance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vcpus: int = Field(gt=0)
    memory_gib: float = Field(gt=0)
    region: str | None = None
    on_demand_hour: Price
    spot_hour: Price


class StoragePrices(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gb_month: Price
    put_per_1000: Price
    get_per_1000: Price
    egress_gb: Price


class Assumptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    page_share: dict[str, Price]
    bytes_per_token: dict[str, Price]
    warc_file_bytes: Price
    cluster_utilisation: Price
    index_bytes_per_row: Price
    range_gets_per_selected_record: Price


class Supply(BaseModel):
    """What Common Crawl holds: pages per crawl, how much of a further crawl is new, crawls to date,
    and documents kept from all of it per language (a ceiling)."""

    model_config = ConfigDict(extra="forbid")

    pages_per_crawl: Price
    new_page_share: Price
    crawls: Price
    kept_documents: dict[str, Price] = Field(default_factory=dict)


class PriceSheet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: str = "USD"
    krw_per_usd: Price
    instances: dict[str, Instance]
    gpu_hour: Price
    storage: StoragePrices
    assumptions: Assumptions
    supply: Supply
    sources: list[str] = Field(default_factory=list, description="the files merged, defaults first")

    def instance(self, name: str) -> Instance:
        if name not in self.instances:
            known = ", ".join(sorted(self.instances))
            raise PriceError(f"no prices for instance {name!r}; the sheet knows {known} (add yours in a price file)")
        return self.instances[name]

    def vcpu_hour(self, name: str, market: str) -> float:
        """USD per vCPU-hour of `name` on the `on_demand` or `spot` market."""
        inst = self.instance(name)
        hourly = inst.spot_hour if market == "spot" else inst.on_demand_hour
        return hourly.value / inst.vcpus


def load_prices(override: str | Path | None = None, krw_per_usd: float | None = None) -> PriceSheet:
    """The default sheet, with the user's file merged over it and an optional KRW rate."""
    data = _read(DEFAULT_SHEET)
    sources = [str(DEFAULT_SHEET)]
    if override:
        data = _merge(data, _read(Path(override)))
        sources.append(str(override))
    if krw_per_usd is not None:
        data["krw_per_usd"] = {
            "value": krw_per_usd,
            "source": "run config (cost.krw_per_usd)",
            "date": "set by the user",
        }
    try:
        return PriceSheet.model_validate({**data, "sources": sources})
    except ValidationError as exc:
        where = override or DEFAULT_SHEET
        lines = [f"invalid price sheet {where}:"]
        lines += [f"  {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise PriceError("\n".join(lines)) from None


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PriceError(f"cannot read price sheet {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise PriceError(f"price sheet {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise PriceError(f"price sheet {path} must hold a mapping, got {type(data).__name__}")
    return data


def _merge(base: dict[str, Any], override: dict[str, Any], where: str = "") -> dict[str, Any]:
    """Key-by-key merge. A user's price must bring its own `source` and `date`:
    a new value under the default's citation would misquote the source."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and "value" in value and not {"source", "date"} <= value.keys():
            raise PriceError(f"price {where}{key} needs `source` and `date` beside its `value`")
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and "value" not in value:
            merged[key] = _merge(merged[key], value, f"{where}{key}.")
        else:
            merged[key] = value
    return merged
