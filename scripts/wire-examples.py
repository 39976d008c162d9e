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
UPLOAD_BEGIN, UPLOAD_RECORDS, UPLOAD_COMMIT, UPLOAD_RESULT = 0x20, 0x21, 0x22, 0x23
WITHDRAW, WITHDRAW_RESULT = 0x24, 0x25
NAMES = {HELLO: "HELLO", WELCOME: "WELCOME", PING: "PING", PONG: "PONG", ERROR: "ERROR",
         QUERY: "QUERY", RESULT: "RESULT", UPLOAD_BEGIN: "UPLOAD_BEGIN", UPLOAD_RECORDS: "UPLOAD_RECORDS",
         UPLOAD_COMMIT: "UPLOAD_COMMIT", UPLOAD_RESULT: "UPLOAD_RESULT", WITHDRAW: "WITHDRAW",
         WITHDRAW_RESULT: "WITHDRAW_RESULT"}


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

# Version 2: uploads and withdrawals.
upload_id = bytes.fromhex("0f1e2d3c4b5a69788796a5b4c3d2e1f0")
legal, ref = "nis2-art-29", "CERT-2026-0815"
begin = frame(UPLOAD_BEGIN, 9, [
    (upload_id, "upload id 0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
    (struct.pack("<I", 3), "record count 3"),
    (struct.pack("<B", 2), "format 2 (csv)"),
    (struct.pack("<B", 0), "flags: none (not defanged, not strict)"),
    (struct.pack("<H", len(legal)), f"legal basis length {len(legal)}"),
    (struct.pack("<H", len(ref)), f"reference length {len(ref)}"),
    (struct.pack("<H", 0), "reserved"),
    (legal.encode(), f'legal basis "{legal}"'),
    (ref.encode(), f'reference "{ref}"'),
])

def record(type_byte, type_name, value, fields):
    mask = 0
    parts = []
    for bit, fmt, v, label in fields:
        mask |= 1 << bit
        parts.append((struct.pack(fmt, v), label))
    head = [(struct.pack("<BBH", type_byte, mask, len(value)),
             f"record: type {type_byte} ({type_name}), fields {mask:#04x}, value length {len(value)}")]
    return head + parts + [(value.encode(), f'"{value}"')]

records = frame(UPLOAD_RECORDS, 9, [
    (struct.pack("<I", 0), "first record index 0"),
    (struct.pack("<I", 3), "record count 3"),
] + record(1, "ipv4", "198.51.100.7", [
    (0, "<B", 3, "category 3 (c2)"), (1, "<B", 80, "confidence 80"),
    (6, "<I", 1798761600, "expires 1798761600 (2027-01-01T00:00:00Z)")])
  + record(3, "domain", "evil.example", [(3, "<B", 1, "action 1 (warn)")])
  + record(0, "detect", "not-an-indicator", []))

commit = frame(UPLOAD_COMMIT, 9, [(struct.pack("<I", 3), "record count 3 (as declared and sent)")])

upload_result = frame(UPLOAD_RESULT, 9, [
    (upload_id, "upload id (echoed)"),
    (struct.pack("<I", 4711), "upload number 4711"),
    (struct.pack("<B", 0), "flags: none (applied now, not discarded)"),
    (bytes(3), "reserved"),
    (struct.pack("<I", 2), "accepted 2"),
    (struct.pack("<I", 0), "duplicates 0"),
    (struct.pack("<I", 1), "rejected 1"),
    (struct.pack("<I", 1), "listed rejections 1"),
    (struct.pack("<IB", 2, 3), "record 2: code 3 (unrecognised)"),
])

withdraw_values = frame(WITHDRAW, 10, [
    (struct.pack("<B", 1), "kind 1 (values)"),
    (struct.pack("<B", 0), "reserved"),
    (struct.pack("<H", len(ref)), f"reference length {len(ref)}"),
    (ref.encode(), f'reference "{ref}"'),
    (struct.pack("<I", 2), "value count 2"),
    (struct.pack("<BH", 3, 12), "value: type 3 (domain), length 12"),
    (b"evil.example", '"evil.example"'),
    (struct.pack("<BH", 1, 11), "value: type 1 (ipv4), length 11"),
    (b"192.0.2.999", '"192.0.2.999"'),
])

withdraw_result = frame(WITHDRAW_RESULT, 10, [
    (struct.pack("<I", 1), "withdrawn 1"),
    (struct.pack("<I", 0), "not found 0"),
    (struct.pack("<I", 1), "refused 1"),
    (struct.pack("<IB", 1, 4), "value 1: code 4 (invalid_value)"),
])

withdraw_upload = frame(WITHDRAW, 11, [
    (struct.pack("<B", 2), "kind 2 (upload)"),
    (struct.pack("<B", 0), "reserved"),
    (struct.pack("<H", 0), "reference length 0"),
    (upload_id, "upload id 0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
])

dump("HELLO from a client that speaks only version 1:", hello)
dump("WELCOME for partner `bank-north`, whose policy reveals category and confidence:", welcome)
dump("QUERY, request id 7, of two values (an IBAN and a value to detect):", query)
dump("Its RESULT: the IBAN is a hit (all four fields revealed), the IP address a miss:", result)
dump("PING:", ping)
dump("ERROR refusing request 8:", error)
dump("Version 2, an upload (request id 9) and two withdrawals. UPLOAD_BEGIN of three CSV records\n"
     "under the source's legal basis and reference:", begin)
dump("UPLOAD_RECORDS: all three records in one chunk (an IPv4 address with category, confidence and expiry; a domain with an action hint; a value for the hub to detect, without fields):", records)
dump("UPLOAD_COMMIT:", commit)
dump("UPLOAD_RESULT once the upload is durable: two accepted, record 2 refused:", upload_result)
dump("WITHDRAW, request id 10, by values:", withdraw_values)
dump("Its WITHDRAW_RESULT: the domain's report withdrawn, value 1 refused:", withdraw_result)
dump("WITHDRAW, request id 11, of the whole upload:", withdraw_upload)
