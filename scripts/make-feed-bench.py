#!/usr/bin/env python3
"""Writes large synthetic STIX 2.1 and MISP feeds for the feed-ingest benchmark (docs/BENCHMARKS.md).

    scripts/make-feed-bench.py OUT_DIR [COUNT]

OUT_DIR/bundle.json     a STIX 2.1 bundle of COUNT indicators (default 1,000,000), shaped like real
                        exporter output: id, created/modified, valid_from, pattern_type, a pattern
                        (ipv4 / domain / url / SHA-256 in turn; every 10th an OR of two), labels,
                        confidence, a TLP marking.
OUT_DIR/values.txt      the bundle's values as a plain list (the baseline: the same indicators
                        without the JSON).
OUT_DIR/misp/           a MISP feed: manifest.json and 10 event files with COUNT attributes in all
                        (ip-dst, domain, url, sha256, filename|sha256 in turn; every 20th to_ids false).
Values are deterministic (seeded), unique and valid.
"""
import json, os, random, sys, uuid

out = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
rng = random.Random(20261123)
os.makedirs(out, exist_ok=True)

def value(i):
    kind = i % 4
    if kind == 0:
        return "ipv4-addr:value", "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255) if i < (1 << 24) else "11.0.0.1"
    if kind == 1:
        return "domain-name:value", "host%d.bench-%d.example" % (i, i % 97)
    if kind == 2:
        return "url:value", "http://bench%d.example/path/%d?q=%d" % (i % 1000, i, i)
    return "file:hashes.'SHA-256'", "%064x" % rng.getrandbits(256)

listing = open(os.path.join(out, "values.txt"), "w")
with open(os.path.join(out, "bundle.json"), "w") as f:
    f.write('{"type": "bundle", "id": "bundle--%s", "objects": [\n' % uuid.UUID(int=rng.getrandbits(128)))
    for i in range(count):
        path, v = value(i)
        pattern = "[%s = '%s']" % (path, v)
        listing.write(v + "\n")
        if i % 10 == 9:
            path2, v2 = value(i + count)
            pattern = "[%s = '%s' OR %s = '%s']" % (path, v, path2, v2)
            listing.write(v2 + "\n")
        obj = {
            "type": "indicator", "spec_version": "2.1",
            "id": "indicator--%s" % uuid.UUID(int=rng.getrandbits(128)),
            "created": "2024-03-01T10:00:00.000Z", "modified": "2024-03-02T10:00:00.000Z",
            "valid_from": "2024-03-01T10:00:00Z", "pattern_type": "stix", "pattern": pattern,
            "indicator_types": ["malicious-activity"], "labels": ["phishing"], "confidence": 80,
            "object_marking_refs": ["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"],
        }
        f.write(("," if i else "") + json.dumps(obj) + "\n")
    f.write("]}\n")
listing.close()

mispdir = os.path.join(out, "misp")
os.makedirs(mispdir, exist_ok=True)
events = 10
manifest = {}
per = count // events
for e in range(events):
    eid = str(uuid.UUID(int=rng.getrandbits(128)))
    manifest[eid] = {"info": "bench %d" % e, "Tag": [{"name": "tlp:green"}], "timestamp": "1709287200"}
    with open(os.path.join(mispdir, eid + ".json"), "w") as f:
        f.write('{"Event": {"info": "bench %d", "date": "2024-03-01", "uuid": "%s", "Attribute": [\n' % (e, eid))
        for j in range(per):
            i = e * per + j
            kind = i % 5
            if kind == 0: t, v = "ip-dst", "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)
            elif kind == 1: t, v = "domain", "host%d.bench.example" % i
            elif kind == 2: t, v = "url", "http://bench%d.example/p/%d" % (i % 1000, i)
            elif kind == 3: t, v = "sha256", "%064x" % rng.getrandbits(256)
            else: t, v = "filename|sha256", "file%d.exe|%064x" % (i, rng.getrandbits(256))
            attr = {"uuid": str(uuid.UUID(int=rng.getrandbits(128))), "type": t, "category": "Network activity",
                    "to_ids": i % 20 != 19, "value": v, "timestamp": "1709287200", "comment": "", "deleted": False}
            f.write(("," if j else "") + json.dumps(attr) + "\n")
        f.write('], "Tag": [{"name": "tlp:green"}]}}\n')
with open(os.path.join(mispdir, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=1)
