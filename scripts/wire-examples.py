#!/usr/bin/env python3
"""Prints the worked hex examples of docs/PROTOCOL.md, built from the document's tables by an
implementation independent of Sources/HubWire (struct.pack, little-endian). The Swift tests
decode the document's examples and re-encode them byte for byte, so the two implementations are
checked against each other.

Usage: python3 scripts/wire-examples.py   (paste the blocks into docs/PROTOCOL.md)
"""
import struct

MAGIC = b"IHUBWIRE"
HELLO, WELCOME, PING, PONG, ERROR, QUERY, RESULT = 0x01, 0x02, 0x03, 0x04, 0x05, 0x10, 0x11
NAMES = {HELLO: "HELLO", WELCOME: "WELCOME", PING: "PING", PONG: "PONG", ERROR: "ERROR",
         QUERY: "QUERY", RESULT: "RESULT"}


def header(msg_type, request_id, payload_len):
    return [(struct.pack("<IBBHQ", payload_len, msg_type, 0, 0, request_id),
             f"header: payload {payload_len} bytes, {NAMES[msg_type]}, flags 0, reserved 0, "
             f"request id {request_id}")]


def text(label, s, width=2):
    b = s.encode("utf-8")
    fmt = "<H" if width == 2 else "<B"
    return [(struct.pack(fmt, len(b)), f"{label} length {len(b)}"), (b, f'"{s}"')]


def frame(msg_type, request_id, parts):
    payload_len = sum(len(b) for b, _ in parts)
    return header(msg_type, request_id, payload_len) + parts


def dump(title, parts):
    print(f"{title}\n\n```hex")
    for data, comment in parts:
        for i in range(0, max(len(data), 1), 16):
            chunk = data[i:i + 16]
            hexes = " ".join(f"{x:02x}" for x in chunk)
            print(f"{hexes:<48}  # {comment}" if i == 0 else f"{hexes:<48}  #   …")
    print("```\n")


hello = frame(HELLO, 0, [
    (MAGIC, 'magic "IHUBWIRE"'),
    (struct.pack("<H", 1), "min version 1"),
    (struct.pack("<H", 1), "max version 1"),
] + text("software name", "ihub-client/0.3"))

welcome = frame(WELCOME, 0, [
    (MAGIC, 'magic "IHUBWIRE"'),
    (struct.pack("<H", 1), "version 1"),
    (struct.pack("<H", 0b0011), "reveal mask: category, confidence"),
    (struct.pack("<I", 4 * 1024 * 1024), "max payload 4,194,304"),
    (struct.pack("<I", 10000), "max batch values 10,000"),
    (struct.pack("<I", 128), "max in flight 128"),
    (struct.pack("<I", 300), "idle timeout 300 s"),
    (struct.pack("<I", (1 << 6) | (1 << 5) | (1 << 7)), "allowed types: email (5), iban (6), phone (7)"),
    (struct.pack("<Q", 42), "policy version 42"),
] + text("partner name", "bank-north"))

fields = [("purpose", "payment-screening"), ("legal basis", "gdpr-6-1-f"),
          ("reference", "TX-20250611-0042"), ("time zone", "Europe/Berlin")]
encoded = [s.encode() for _, s in fields]
values = [(6, "DE89370400440532013000", "iban"), (0, "192.0.2.44", "detect")]
query_parts = [
    (struct.pack("<B", 1), "priority 1 (urgent)"),
    (struct.pack("<B", 0), "reserved"),
] + [(struct.pack("<H", len(b)), f"{label} length {len(b)}") for (label, _), b in zip(fields, encoded)] + [
    (struct.pack("<H", 0), "reserved"),
    (struct.pack("<I", len(values)), f"value count {len(values)}"),
] + [(b, f'{label} "{s}"') for (label, s), b in zip(fields, encoded)]
for type_byte, value, label in values:
    query_parts += [(struct.pack("<BH", type_byte, len(value)), f"value: type {type_byte} ({label}), length {len(value)}"),
                    (value.encode(), f'"{value}"')]
query = frame(QUERY, 7, query_parts)

result = frame(RESULT, 7, [
    (struct.pack("<I", 2), "entry count 2"),
    (struct.pack("<BB", 1, 0b1111), "entry 0: hit, reveal mask: category, confidence, expires, action"),
    (struct.pack("<BBIB", 6, 90, 1767225600, 0),
     "category 6 (mule-account), confidence 90, expires 1767225600 (2026-01-01T00:00:00Z), action 0 (block)"),
    (struct.pack("<B", 0), "entry 1: miss"),
])

ping = frame(PING, 0, [(bytes(range(1, 9)), "8 opaque bytes, echoed by the PONG")])

reason = "purpose 'marketing' is not allowed for partner bank-north"
error = frame(ERROR, 8, [
    (struct.pack("<H", 201), "code 201 (purpose_not_allowed)"),
] + text("reason", reason))

dump("HELLO from a client that speaks only version 1:", hello)
dump("WELCOME for partner `bank-north`, whose policy reveals category and confidence:", welcome)
dump("QUERY, request id 7, of two values (an IBAN and a value to detect):", query)
dump("Its RESULT: the IBAN is a hit (all four fields revealed), the IP address a miss:", result)
dump("PING:", ping)
dump("ERROR refusing request 8:", error)
