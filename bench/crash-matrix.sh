#!/usr/bin/env bash
# Crash matrix: SIGKILL `vellum archive` and `vellumd` at random moments while they write, and
# check after each kill that nothing reported done was lost.
#
#   bench/crash-matrix.sh [BUILD_DIR]        (default: build)
#   environment: ROUNDS (kills per program, default 50), MODES (default "archive daemon"),
#                MIN_MS / MAX_MS (time from start to the kill, default 300 / 4000), SEED
#
# Workload: the shared news corpus served by nginx on 127.0.0.1 under /site/ and /copyN/
# prefixes, so that every round captures pages it has not captured before (heavy writing:
# zstd, extraction, sidecars, index). Each round:
#   1. starts the program on the archive (`vellum archive -i` a fresh slice of URLs at
#      concurrency 16, or `vellumd` with a sitemap of all URLs), waits a random time, SIGKILL;
#   2. takes what the program reported done before it died: `vellum archive --json` lines with
#      a capture id, or the daemon's "captured ID STATUS URL" log lines;
#   3. recovery: the next writer (`vellum archive` of one more page) opens the archive, which
#      cuts torn tails and indexes what the index lacks;
#   4. `vellum verify` must pass, and every capture reported done must restore byte-identical
#      to the page nginx served (`vellum restore ID --format html`).
# Prints one line per round and the totals; exits 1 if any check failed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$here/build}" && pwd)
vellum=$build/core/vellum
vellumd=$build/core/vellumd
rounds=${ROUNDS:-50}
modes=${MODES:-archive daemon}
min_ms=${MIN_MS:-300}
max_ms=${MAX_MS:-4000}
RANDOM=${SEED:-$$}
[ -x "$vellum" ] && [ -x "$vellumd" ] || { echo "build $build first" >&2; exit 2; }

source "$here/bench/corpus-site.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/vellum-crash.XXXXXX")
cleanup() {
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  pkill -9 -f "$work/" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

corpus_site "$here/../shared/corpus" "$work"
pages=$(wc -l <"$work/pages.txt")
copies=$(((rounds * 600) / pages + 1))
for c in $(seq "$copies"); do ln -s site "$work/site/copy$c"; done
serve_site "$work"
all=$work/urls.txt
for prefix in site $(seq -f 'copy%g' "$copies"); do
  sed "s|^|$base/$prefix/|" "$work/pages.txt"
done >"$all"
echo "workload: $(wc -l <"$all") URLs ($pages corpus pages under $((copies + 1)) prefixes), nginx at $base; kills after ${min_ms}-${max_ms} ms; $rounds rounds per program"

failures=0
total_reported=0
total_restored=0
total_cut=0
total_reopened=0
total_reindexed=0

# check ARCHIVE REPORTED-FILE ROUND MODE: recovery, verify, restore every reported capture.
check() {
  local archive=$1 reported=$2 round=$3 mode=$4 sentinel recover verify ok=0 bad=0 cut reopened reindexed
  sentinel="$base/site/$(sed -n "$(((round % pages) + 1))p" "$work/pages.txt")"
  recover=$("$vellum" --archive "$archive" archive "$sentinel" 2>&1 >/dev/null) || {
    echo "round $round ($mode): recovery run failed: $recover" >&2
    failures=$((failures + 1))
  }
  cut=$(grep -c "torn tail\|no complete record" <<<"$recover" || true)
  reopened=$(grep -c ": closed as " <<<"$recover" || true)
  reindexed=$(sed -n 's/.*(\([0-9]*\) captures re-indexed).*/\1/p' <<<"$recover" | awk '{s += $1} END {print s + 0}')
  if ! verify=$("$vellum" --archive "$archive" verify 2>&1); then
    echo "round $round ($mode): verify FAILED: $verify" >&2
    failures=$((failures + 1))
  fi
  while read -r id url; do
    [ -n "$id" ] || continue
    local path=${url#"$base"/} got
    got=$("$vellum" --archive "$archive" restore "$id" --format html -o "$work/restored" 2>&1) &&
      cmp -s "$work/restored" "$work/site/$path" && ok=$((ok + 1)) || {
      bad=$((bad + 1))
      echo "round $round ($mode): capture $id ($url) reported done but does not restore: $got" >&2
    }
  done <"$reported"
  failures=$((failures + bad))
  total_reported=$((total_reported + ok + bad))
  total_restored=$((total_restored + ok))
  total_cut=$((total_cut + cut))
  total_reopened=$((total_reopened + reopened))
  total_reindexed=$((total_reindexed + ${reindexed:-0}))
  printf '%s round %2d: killed after %4d ms, %4d reported done, %4d restored byte-identical, verify %s; recovery: %d open file(s) closed, %d torn tail(s) cut, %d captures indexed that were durable but not yet reported\n' \
    "$mode" "$round" "$delay" "$((ok + bad))" "$ok" \
    "$(grep -q '^ok' <<<"$verify" && echo ok || echo FAILED)" "$reopened" "$cut" "${reindexed:-0}"
}

kill_after() {  # kill_after PID: SIGKILL after $delay ms
  sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

for mode in $modes; do
  archive=$work/archive-$mode
  mkdir -p "$archive"
  if [ "$mode" = daemon ]; then
    { echo '<?xml version="1.0" encoding="UTF-8"?>'
      echo '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
      sed 's|.*|<url><loc>&</loc></url>|' "$all"
      echo '</urlset>'; } >"$work/site/sitemap.xml"
    cat >"$work/vellumd.toml" <<EOF
[archive]
dir = "$archive"
[plugins]
dirs = ["$build/plugins"]
[fetch]
allow_private_networks = true
concurrency = 16
per_host_concurrency = 16
per_host_delay = "0s"
[schedule]
max_new_per_run = 100000
[daemon]
socket = "$work/vellumd.sock"
[log]
level = "info"
target = "stderr"
[[source]]
name = "crash"
kind = "sitemap"
url = "$base/sitemap.xml"
interval = "1h"
EOF
  fi
  for round in $(seq "$rounds"); do
    delay=$((min_ms + RANDOM % (max_ms - min_ms + 1)))
    reported=$work/reported-$mode-$round.txt
    if [ "$mode" = archive ]; then
      sed -n "$(((round - 1) * 600 + 1)),$((round * 600))p" "$all" >"$work/slice.txt"
      "$vellum" --archive "$archive" --json archive -i "$work/slice.txt" --concurrency 16 \
        >"$work/out.jsonl" 2>/dev/null &
      kill_after $!
      python3 - "$work/out.jsonl" >"$reported" <<'PY'
import json, sys
for line in open(sys.argv[1], errors="replace"):
    try:
        j = json.loads(line)
    except ValueError:
        continue  # the line being written when the process died
    if j.get("capture_id") and not j.get("error") and j.get("status") == 200:
        print(j["capture_id"], j.get("final_url", j["url"]))
PY
    else
      "$vellumd" --config "$work/vellumd.toml" 2>"$work/vellumd.log" &
      kill_after $!
      # "captured ID STATUS URL" once the capture is durable and indexed.
      sed -n 's/.*captured \([0-9a-f-]\{36\}\) 200 \(http[^ ]*\).*/\1 \2/p' "$work/vellumd.log" \
        >"$reported"
    fi
    check "$archive" "$reported" "$round" "$mode"
  done
done

echo
echo "kills: $(($(wc -w <<<"$modes") * rounds)); captures reported done before a kill: $total_reported; restored byte-identical after recovery: $total_restored; open files closed by recovery: $total_reopened; torn tails cut: $total_cut; durable captures indexed by recovery: $total_reindexed; failed checks: $failures"
[ "$failures" -eq 0 ]
