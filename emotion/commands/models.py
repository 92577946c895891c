"""`python -m emotion models`: every model by role, its weights, origin and whether it is usable now.

    python -m emotion models [--json] [--usable]
"""
from __future__ import annotations

import argparse
import json

ROLES = ("detector", "landmarks", "recognizer", "classifier")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="a JSON list instead of the table")
    p.add_argument("--usable", action="store_true", help="only the models usable now")


def run(args: argparse.Namespace) -> int:
    from emotion.registry import describe_models

    rows = describe_models()
    if args.usable:
        rows = [r for r in rows if r["usable"]]
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    for role in ROLES:
        group = [r for r in rows if r["role"] == role]
        if not group:
            continue
        print(f"{role.upper()}S" if role != "landmarks" else "LANDMARKS")
        width = max(len(r["name"]) for r in group)
        for r in group:
            mark = "yes" if r["usable"] else "no "
            weights = r["weights"] or "-"
            print(f"  {r['name']:<{width}}  usable={mark}  origin={r['origin']}")
            print(f"  {'':<{width}}  weights={weights}")
            if r.get("note"):
                print(f"  {'':<{width}}  {r['note']}")
        print()
    return 0
