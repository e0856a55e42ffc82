#!/usr/bin/env python3
"""Checks a WACZ file against WACZ 1.1.1 with nothing but the Python standard library, as a
reader that shares no code with Vellum would, and prints what it found as one JSON object:
{"cdxj": [{"url", "key", "timestamp", "type", "record_id"}], "pages": [...], "resources": [...]}.

Exits 1 with a message naming the first problem found."""

import base64
import gzip
import hashlib
import json
import string
import struct
import sys
import zipfile
import zlib

REQUIRED = ["datapackage.json", "datapackage-digest.json", "pages/pages.jsonl"]
PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}


def fail(message):
    sys.exit("check_wacz: " + message)


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def one_record(raw, where):
    """Decompresses `raw`, which must be exactly one gzip member holding exactly one WARC record;
    returns (header fields, block)."""
    d = zlib.decompressobj(wbits=31)
    try:
        data = d.decompress(raw) + d.flush()
    except zlib.error as e:
        fail(f"{where}: the bytes there are not a gzip member ({e})")
    if not d.eof:
        fail(f"{where}: the gzip member does not end within the CDXJ length")
    if d.unused_data:
        fail(f"{where}: {len(d.unused_data)} bytes follow the gzip member within the CDXJ length")
    end = data.find(b"\r\n\r\n")
    if end < 0:
        fail(f"{where}: no end of the WARC header")
    lines = data[:end].decode("utf-8").split("\r\n")
    if lines[0] not in ("WARC/1.1", "WARC/1.0"):
        fail(f"{where}: version line {lines[0]!r}")
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    length = int(fields["content-length"])
    block = data[end + 4:end + 4 + length]
    if len(data) != end + 4 + length + 4 or not data.endswith(b"\r\n\r\n"):
        fail(f"{where}: {len(data)} bytes decompressed, expected one record of "
             f"{end + 4 + length + 4} bytes")
    return fields, block


def main(path):
    raw = open(path, "rb").read()
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        for name in REQUIRED:
            if name not in names:
                fail(f"no {name} in {names}")
        warcs = [n for n in names if n.startswith("archive/")]
        indexes = [n for n in names if n.startswith("indexes/")]
        if not warcs or not indexes:
            fail(f"expected archive/ and indexes/ entries, found {names}")
        # pywb takes indexes named .cdx or .cdx.gz (holding CDXJ or not) and no others.
        for n in indexes:
            if not (n.endswith(".cdx") or n.endswith(".cdx.gz")):
                fail(f"{n}: expected an index named .cdx or .cdx.gz")
        infos = {i.filename: i for i in z.infolist()}
        for n in warcs:
            if not n.endswith(".warc.gz"):
                fail(f"{n}: expected a .warc.gz name")
            if infos[n].compress_type != zipfile.ZIP_STORED:
                fail(f"{n}: compress_type {infos[n].compress_type}, expected 0 (stored)")
        bad = z.testzip()
        if bad:
            fail(f"CRC mismatch in {bad}")

        # datapackage.json lists every other file with its size and hash.
        package_bytes = z.read("datapackage.json")
        package = json.loads(package_bytes)
        # ReplayWeb.page opens "data-package" (WACZ 1.1.1) and refuses other profiles.
        if package.get("profile") != "data-package" or package.get("wacz_version") != "1.1.1":
            fail(f"datapackage.json profile {package.get('profile')!r} version "
                 f"{package.get('wacz_version')!r}, expected 'data-package' and '1.1.1'")
        for key in ("created", "software", "resources"):
            if key not in package:
                fail(f"datapackage.json has no {key}")
        listed = set()
        for r in package["resources"]:
            data = z.read(r["path"])
            if r["bytes"] != len(data):
                fail(f"{r['path']}: datapackage.json says {r['bytes']} bytes, found {len(data)}")
            if r["hash"] != sha256(data):
                fail(f"{r['path']}: datapackage.json says {r['hash']}, found {sha256(data)}")
            if r["name"] != r["path"].rsplit("/", 1)[-1]:
                fail(f"{r['path']}: resource name {r['name']!r}")
            listed.add(r["path"])
        unlisted = set(names) - listed - {"datapackage.json", "datapackage-digest.json"}
        if unlisted:
            fail(f"files not in datapackage.json: {sorted(unlisted)}")
        digest = json.loads(z.read("datapackage-digest.json"))
        if digest.get("path") != "datapackage.json" or digest.get("hash") != sha256(package_bytes):
            fail(f"datapackage-digest.json {digest} does not match {sha256(package_bytes)}")

        # CDXJ: sorted; each line's offset and length, taken in the raw ZIP bytes, hold exactly
        # the record the line names.
        def data_offset(name):
            info = infos[name]
            sig, = struct.unpack_from("<I", raw, info.header_offset)
            if sig != 0x04034B50:
                fail(f"{name}: no local header at {info.header_offset}")
            n, m = struct.unpack_from("<HH", raw, info.header_offset + 26)
            # A central entry without extra fields is read as a local header without them too
            # (ReplayWeb.page saves the read of the local header so).
            if not info.extra and m:
                fail(f"{name}: the local header has {m} bytes of extra fields, the central "
                     f"directory none")
            return info.header_offset + 30 + n + m

        cdxj = []
        for index in indexes:
            text = z.read(index)
            if index.endswith(".gz"):
                text = gzip.decompress(text)
            keys = []
            for number, line in enumerate(text.decode("utf-8").splitlines(), 1):
                where = f"{index}:{number}"
                key, ts, body = line.split(" ", 2)
                if len(ts) != 14 or not ts.isdigit():
                    fail(f"{where}: timestamp {ts!r}, expected 14 digits")
                keys.append((key, ts))
                entry = json.loads(body)
                for field in ("url", "mime", "digest", "offset", "length", "filename"):
                    if field not in entry:
                        fail(f"{where}: no {field} in {entry}")
                warc = "archive/" + entry["filename"]
                if warc not in infos:
                    fail(f"{where}: filename {entry['filename']} is not in archive/")
                start = data_offset(warc) + int(entry["offset"])
                fields, _ = one_record(raw[start:start + int(entry["length"])], where)
                uri = fields.get("warc-target-uri", "")
                if uri.startswith("<") and uri.endswith(">"):
                    uri = uri[1:-1]  # as WARC/1.0 drafts wrote it (wget does), readers accept it
                if uri != entry["url"]:
                    fail(f"{where}: record URI {fields.get('warc-target-uri')!r}, "
                         f"line says {entry['url']!r}")
                date_digits = "".join(c for c in fields.get("warc-date", "") if c.isdigit())
                if date_digits[:14] != ts:
                    fail(f"{where}: record date {fields.get('warc-date')!r}, line says {ts}")
                digest = fields.get("warc-payload-digest", "")
                if digest.startswith("sha1:"):
                    digest = digest[5:]  # CDX digests: SHA-1 in base32 alone
                    if len(digest) == 40 and all(c in string.hexdigits for c in digest):
                        digest = base64.b32encode(bytes.fromhex(digest)).decode()
                if digest != entry["digest"]:
                    fail(f"{where}: record digest {fields.get('warc-payload-digest')!r}, "
                         f"line says {entry['digest']!r}")
                kind = fields.get("warc-type")
                if kind not in ("response", "revisit"):
                    fail(f"{where}: a {kind} record, expected response or revisit")
                if (kind == "revisit") != (entry["mime"] == "warc/revisit"):
                    fail(f"{where}: a {kind} record with mime {entry['mime']!r}")
                cdxj.append({"url": entry["url"], "key": key, "timestamp": ts, "type": kind,
                             "record_id": fields.get("warc-record-id"),
                             "status": entry.get("status"), "digest": entry["digest"]})
            if keys != sorted(keys):
                fail(f"{index}: lines are not sorted by key, then timestamp")

        # pages.jsonl: the header line, then one page per line.
        lines = z.read("pages/pages.jsonl").decode("utf-8").splitlines()
        if not lines or json.loads(lines[0]) != PAGES_HEADER:
            fail(f"pages.jsonl starts with {lines[:1]}, expected {PAGES_HEADER}")
        pages = []
        for number, line in enumerate(lines[1:], 2):
            page = json.loads(line)
            if "url" not in page or "ts" not in page:
                fail(f"pages.jsonl:{number}: no url or ts in {page}")
            pages.append(page)

        # Every WARC file reads as gzip members of whole records, warcinfo first.
        for n in warcs:
            data = z.read(n)
            at, count = 0, 0
            while at < len(data):
                d = zlib.decompressobj(wbits=31)
                try:
                    d.decompress(data[at:])
                except zlib.error as e:
                    fail(f"{n}: no gzip member at {at} ({e})")
                if not d.eof:
                    fail(f"{n}: torn gzip member at {at}")
                size = len(data) - at - len(d.unused_data)
                fields, _ = one_record(data[at:at + size], f"{n} at {at}")
                if count == 0 and fields.get("warc-type") != "warcinfo":
                    fail(f"{n}: first record is {fields.get('warc-type')}, expected warcinfo")
                at += size
                count += 1

    print(json.dumps({"cdxj": cdxj, "pages": pages, "resources": package["resources"]}))


if __name__ == "__main__":
    main(sys.argv[1])
