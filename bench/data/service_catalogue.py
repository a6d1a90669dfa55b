"""A large service catalogue as CSV, shaped like a province's: every region's departments offering the demo
items, each region somewhat more or less digitised than the demo's 西湖区.

Run: .venv/bin/python bench/data/service_catalogue.py OUT.csv [--items 10000] [--seed 1]

Each item copies one of the demo items (``zerotrip.demo.services``) for a department of the same kind in a
region of the same level (1 province, 11 cities, 90 counties), then varies it as catalogues vary: an
item's data-sourced material may still be an original shown at the counter (naming its holder), an
on-site original may already be fetched, an upload may be added, a channel dropped, a licence collected
in person or posted. The same seed writes the same file.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator
from pathlib import Path

from zerotrip.common.divisions import ZHEJIANG
from zerotrip.demo.orgs import department_name, region_names
from zerotrip.demo.service_kit import DemoItem
from zerotrip.demo.services import demo_items
from zerotrip.services import catalogue_csv, trips
from zerotrip.services.catalogue_csv import CatalogueRow

LEVEL_OF_DIVISION = {"province": "province", "city": "city", "county": "county"}
EXTRA_UPLOADS = ("情况说明", "委托书", "申请表", "现场照片", "相关证明材料")


def _holder_of(source: trips.Source) -> trips.Holder | None:
    if source.kind in ("certificate", "datahub") and source.ref:
        return trips.Holder(source.kind, source.ref)  # type: ignore[arg-type]
    return None


def _vary(
    rng: random.Random, item: DemoItem
) -> tuple[tuple[trips.Material, ...], tuple[trips.Step, ...], frozenset[str]]:
    materials = []
    for m in item.materials:
        source = m.source.as_trip_source()
        holder = _holder_of(source)
        if holder is not None and rng.random() < 0.15:
            # This region still asks for the paper the platform could fetch.
            source = trips.Source("onsite", held_by=holder)
        elif source.kind == "onsite" and source.held_by is not None and rng.random() < 0.3:
            # …or already fetches what the demo still asks to see.
            holder = source.held_by
            if holder.kind == "datahub":
                source = trips.Source("datahub", holder.ref, is_exists=True)
            else:
                source = trips.Source("certificate", holder.ref)
        materials.append(trips.Material(m.name, source))
    if rng.random() < 0.2:
        materials.append(trips.Material(rng.choice(EXTRA_UPLOADS), trips.Source("upload")))
    if rng.random() < 0.05:
        materials.append(trips.Material("原件核验", trips.Source("onsite")))
    steps = list(catalogue_csv.parse_steps(item.steps))
    if steps[-1].presence == "onsite" and rng.random() < 0.3:
        steps[-1] = trips.Step("issue")  # the licence is posted
    elif steps[-1].presence == "none" and rng.random() < 0.05:
        steps[-1] = trips.Step("issue", "onsite")
    channels = set(item.channels)
    if "online" in channels and rng.random() < 0.05:
        channels = {"window"}
    unique = {m.name: m for m in materials}
    return tuple(unique.values()), tuple(steps), frozenset(channels)


def generate(items: int, seed: int = 1) -> Iterator[CatalogueRow]:
    rng = random.Random(f"service-catalogue:{seed}")
    names = region_names()
    regions: dict[str, list[str]] = {"province": [], "city": [], "county": []}
    for division in ZHEJIANG:
        if division.level in regions:
            regions[division.level].append(division.code)
    templates = demo_items()
    numbers: dict[str, int] = {}
    for _ in range(items):
        template = rng.choice(templates)
        region_code, _, key = template.org.partition("-")
        level = (
            "province" if region_code.endswith("0000") else "city" if region_code.endswith("00") else "county"
        )
        region = rng.choice(regions[level])
        org = f"{region}-{key}"
        numbers[org] = numbers.get(org, 0) + 1
        materials, steps, channels = _vary(rng, template)
        promised = (
            template.promised_days
            if rng.random() < 0.8
            else min(template.statutory_days, template.promised_days + rng.randint(0, 5))
        )
        yield CatalogueRow(
            item=trips.Item(
                code=f"{org}-{numbers[org]:04d}",
                name=template.name,
                department=department_name(key, region, names)[0],
                level=LEVEL_OF_DIVISION[level],
                channels=channels,
                promised_days=promised,
                materials=materials,
                steps=steps,
            ),
            name_en=template.name_en,
            type=template.type,
            statutory_days=template.statutory_days,
            is_instant=template.is_instant and promised == 0 and "online" in channels,
            life_events=template.events,
        )


def write(path: Path, items: int, seed: int = 1) -> int:
    with path.open("w", encoding="utf-8", newline="") as out:
        return catalogue_csv.write_catalogue(out, generate(items, seed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out", type=Path)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    written = write(args.out, args.items, args.seed)
    print(f"wrote {written:,} items to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
