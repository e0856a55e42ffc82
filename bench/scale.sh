#!/usr/bin/env bash
# Memory and time of `vellum import`, `verify`, `export` and `reextract` as the archive grows.
#
#   bench/scale.sh [BUILD_DIR]        (default: build)
#   environment: SIZES (captures per archive, default "10000 40000")
#
# For each size: writes a WARC of that many small HTML responses (one gzip member each, a second
# apart), imports it into a fresh archive with `vellum import`, verifies the archive,
# exports all of it as warc.gz and as wacz, and re-extracts its articles, each under
# /usr/bin/time. Prints the peak resident memory and the wall and CPU time of each, and between
# the first and last size the memory each further capture costs. Exits 1 if a command fails.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$here/build}" && pwd)
vellum=$build/core/vellum
sizes=${SIZES:-10000 40000}
[ -x "$vellum" ] || { echo "build $build first" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is needed (Debian package: time)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/vellum-scale.XXXXXX")
trap 'rm -rf "$work"' EXIT

write_warc() {  # N FILE
  python3 - "$1" "$2" <<'PY'
import base64, gzip, hashlib, sys, uuid
n, path = int(sys.argv[1]), sys.argv[2]
def sha1(b): return "sha1:" + base64.b32encode(hashlib.sha1(b).digest()).decode()
with open(path, "wb") as out:
    for i in range(n):
        body = ("<html><head><title>Page %d</title></head><body><p>Some text of page %d, long "
                "enough to look like something.</p></body></html>" % (i, i)).encode()
        http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        t = 1767225600 + i  # 2026-01-01T00:00:00Z onwards
        date = "%04d-%02d-%02dT%02d:%02d:%02dZ" % __import__("time").gmtime(t)[:6]
        head = ("WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:%s>\r\n"
                "WARC-Date: %s\r\nWARC-Target-URI: https://news.example.com/section/%d/"
                "article-with-a-longish-slug-%d\r\nContent-Type: application/http; msgtype=response\r\n"
                "WARC-Payload-Digest: %s\r\nWARC-Block-Digest: %s\r\nContent-Length: %d\r\n\r\n"
                % (uuid.uuid4(), date, i % 100, i, sha1(body), sha1(http), len(http))).encode()
        out.write(gzip.compress(head + http + b"\r\n\r\n"))
PY
}

declare -A rss
status=0
measure() {  # N WHAT COMMAND...
  local n=$1 what=$2
  shift 2
  if ! /usr/bin/time -f "%M %e %U %S" -o "$work/time" "$@" >/dev/null 2>&1; then
    echo "$what of $n captures failed" >&2
    status=1
    return
  fi
  read -r kb wall user sys < "$work/time"
  rss[$n.$what]=$kb
  awk -v n="$n" -v w="$what" -v kb="$kb" -v wall="$wall" -v user="$user" -v sys="$sys" \
    'BEGIN { printf "%10s  %-14s %9.1f MB %8.2fs %8.2fs\n", n, w, kb / 1000, wall, user + sys }'
}
printf '%10s  %-14s %12s %9s %9s\n' captures command "max resident" wall cpu
for n in $sizes; do
  write_warc "$n" "$work/in-$n.warc.gz"
  measure "$n" import "$vellum" --archive "$work/a$n" import "$work/in-$n.warc.gz"
  [ -n "${rss[$n.import]:-}" ] || exit 1
  measure "$n" verify "$vellum" --archive "$work/a$n" verify
  for f in warc.gz wacz; do
    measure "$n" "export $f" "$vellum" --archive "$work/a$n" export --format "$f" -o "$work/out-$n.$f"
    rm -f "$work/out-$n.$f"
  done
  measure "$n" reextract "$vellum" --archive "$work/a$n" reextract
done
set -- $sizes
first=$1
last=${!#}
if [ "$first" != "$last" ]; then
  for what in import verify "export warc.gz" "export wacz" reextract; do
    [ -n "${rss[$first.$what]:-}" ] && [ -n "${rss[$last.$what]:-}" ] || continue
    awk -v w="$what" -v a="${rss[$first.$what]}" -v b="${rss[$last.$what]}" -v n0="$first" -v n1="$last" \
      'BEGIN { printf "%s: %.0f bytes of memory for each capture past %s\n", w, (b - a) * 1024 / (n1 - n0), n0 }'
  done
fi
exit $status
