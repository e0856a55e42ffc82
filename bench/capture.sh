#!/usr/bin/env bash
# Capture benchmark: the shared news corpus x10 under different paths (~1,700 URLs) served by
# nginx on 127.0.0.1 (compression off on the wire). In one run, side by side:
#   - vellum archive --no-extract --concurrency 64, and the same with article extraction on
#   - wget --warc-file (the archivist's everyday peer)
#   - the work's own limit: the longer of curl --parallel (64) to /dev/null and compressing each
#     page separately with zstd at the default level on all cores
#   - bytes on disk against wget's .warc.gz
#   - bytes added by re-archiving the same, unchanged URLs
#   - `vellum restore URL --format html` wall time (process start included) at 1,000 and
#     20,000 captures
#
#   bench/capture.sh [BUILD_DIR]        (default: build)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/corpus-site.sh
. "$here/bench/corpus-site.sh"
build=${1:-$here/build}
vellum=$build/core/vellum
corpus=$here/../shared/corpus
[ -x "$vellum" ] || { echo "capture.sh: build first (scripts/dev.sh build)" >&2; exit 2; }
for t in nginx wget curl zstd python3; do
  command -v $t >/dev/null || [ -x /usr/sbin/$t ] || { echo "capture.sh: needs $t" >&2; exit 2; }
done

work=$(mktemp -d /tmp/vellum-bench-XXXXXX)
trap 'kill $(cat $work/nginx.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
corpus_site "$corpus" "$work"
for c in 1 2 3 4 5 6 7 8 9; do ln -s site "$work/site/copy$c"; done
serve_site "$work"

urls=$work/urls.txt
: >"$urls"
for prefix in site copy1 copy2 copy3 copy4 copy5 copy6 copy7 copy8 copy9; do
  sed "s|^|$base/$prefix/|" "$work/pages.txt" >>"$urls"
done
n=$(wc -l <"$urls")
page_bytes=$(find "$work/site/site" -name "*.html" -exec cat {} + | wc -c)

now() { date +%s.%N; }
# Each timed program starts with nothing of the previous one's still being written back: the
# syncing programs (vellum) would otherwise wait for another program's data.
quiet_disk() { sync; sleep 1; }
elapsed() { python3 -c "print(f'{$2 - $1:.3f}')"; }
dir_bytes() { du -sb --apparent-size "$@" | awk '{s+=$1} END {print s}'; }

echo "workload: $n URLs, $((page_bytes * 10 / 1048576)) MiB of HTML, nginx on 127.0.0.1, $(nproc) cores"

# curl: the network part alone.
sed 's|.*|url = "&"\noutput = "/dev/null"|' "$urls" >"$work/curl.cfg"
t0=$(now); curl -s --no-progress-meter --parallel --parallel-max 64 -K "$work/curl.cfg"; t1=$(now)
curl_s=$(elapsed "$t0" "$t1")

# zstd: compressing each page on its own (a frame per page, as -c writes for each file named),
# on all cores. Each zstd process is given a hundred pages: one process per page would time
# 1,710 process starts (more than the compression on this workload), not the compression.
t0=$(now)
for prefix in site copy1 copy2 copy3 copy4 copy5 copy6 copy7 copy8 copy9; do
  sed "s|^|$work/site/site/|" "$work/pages.txt"
done | xargs -d '\n' -P "$(nproc)" -n 100 zstd -q -3 -c >/dev/null
t1=$(now)
zstd_s=$(elapsed "$t0" "$t1")

# wget.
quiet_disk
mkdir -p "$work/wget"
t0=$(now)
(cd "$work/wget" && wget -q --warc-file=bench --no-warc-keep-log -i "$urls" -O /dev/null) || true
t1=$(now)
wget_s=$(elapsed "$t0" "$t1")
wget_bytes=$(dir_bytes "$work/wget/bench.warc.gz")

# vellum.
quiet_disk
t0=$(now)
"$vellum" -q --archive "$work/vellum" archive --no-extract --concurrency 64 -i "$urls" >/dev/null
t1=$(now)
vellum_s=$(elapsed "$t0" "$t1")
vellum_bytes=$(dir_bytes "$work/vellum/warc")
index_bytes=$(dir_bytes "$work/vellum"/index.sqlite3*)

# vellum with article extraction on (the default), into a fresh archive.
quiet_disk
t0=$(now)
"$vellum" -q --archive "$work/vellum-extract" archive --concurrency 64 -i "$urls" >/dev/null
t1=$(now)
extract_s=$(elapsed "$t0" "$t1")
articles=$(find "$work/vellum-extract/articles" -name '*.json' | wc -l)

# Re-archive, unchanged.
"$vellum" -q --archive "$work/vellum" archive --no-extract --concurrency 64 -i "$urls" >/dev/null
again_bytes=$(dir_bytes "$work/vellum/warc")
per_page_added=$(((again_bytes - vellum_bytes) / n))

"$vellum" -q --archive "$work/vellum" verify >/dev/null && verify=ok || verify=FAILED

# Restore latency at ~1,700 URLs (x2 with revisits) and at ~20,000 captures: a copy of the
# archive is kept, the original grown by 17,100 captures, and both are then measured in turns
# (the same 31 random URLs, each restored from the small archive, then the big one, three
# rounds), so that the two medians see the machine in the same state. Wall time of each
# `vellum restore URL --format html` (process start included), timed around each exec by one
# Python process.
small_captures=$((2 * n))
cp -a "$work/vellum" "$work/vellum-small"
for round in 1 2 3 4 5 6 7 8 9 10; do
  sed "s|\$|?r=$round|" "$urls"
done >"$work/more.txt"
"$vellum" -q --archive "$work/vellum" archive --no-extract --concurrency 64 -i "$work/more.txt" >/dev/null
big_captures=$((small_captures + 10 * n))
quiet_disk
shuf -n 31 --random-source=<(yes) "$urls" >"$work/sample.txt"
read -r restore_small restore_big < <(python3 - "$vellum" "$work/vellum-small" "$work/vellum" \
  "$work/sample.txt" <<'PY'
import subprocess, sys, time
vellum, small, big, sample = sys.argv[1:5]
times = {small: [], big: []}
for _ in range(3):
    for url in open(sample).read().split():
        for archive in (small, big):
            t = time.perf_counter()
            subprocess.run([vellum, "--archive", archive, "restore", url, "--format", "html"],
                           stdout=subprocess.DEVNULL, check=True)
            times[archive].append(time.perf_counter() - t)
median = lambda v: sorted(v)[len(v) // 2]
print(f"{median(times[small]):.4f} {median(times[big]):.4f}")
PY
)

limit=$(python3 -c "print(max($curl_s, $zstd_s))")
python3 - <<PY
n=$n; v=$vellum_s; w=$wget_s; c=$curl_s; z=$zstd_s; lim=$limit
print(f"{'':28}{'seconds':>9}{'pages/s':>10}")
for name, s in [("vellum archive (c=64)", v), ("vellum with extraction", $extract_s), ("wget --warc-file", w), ("curl --parallel 64", c), ("zstd -3 per page", z)]:
    print(f"{name:28}{s:9.3f}{n/s:10.0f}")
print(f"vellum vs wget:        {w/v:6.1f}x faster   (target >= 12x)")
print(f"vellum vs limit ({lim:.3f}s): {v/lim:6.2f}x   (target <= 1.5x)")
vb=$vellum_bytes; wb=$wget_bytes
print(f"bytes on disk: vellum {vb} (+ index $index_bytes), wget {wb}: {vb/wb:.3f}x   (target <= 1.0x)")
print(f"re-archive unchanged: {$per_page_added} bytes added per page   (target <= 2048)")
print(f"restore median: {float('$restore_small')*1000:.1f} ms at {$small_captures} captures, {float('$restore_big')*1000:.1f} ms at {$big_captures} captures, in turns   (target <= 10 ms)")
print(f"with extraction: {n/$extract_s:.0f} pages/s, {$articles} articles written")
print(f"verify: $verify")
PY
