#!/usr/bin/python3
"""Parses a Prometheus text exposition file with the real parser (prometheus_client, as
Debian's python3-prometheus-client ships it) and prints what it read as JSON: one object
per metric family with its type, help and samples. Exits 1 with the parser's error on
stderr when the file is not valid exposition format."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

try:
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    families = [
        {
            "name": family.name,
            "type": family.type,
            "help": family.documentation,
            "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples],
        }
        for family in text_string_to_metric_families(text)
    ]
except Exception as error:  # the parser raises ValueError and friends
    print(f"{sys.argv[1]}: {error!r}", file=sys.stderr)
    sys.exit(1)
json.dump(families, sys.stdout)
