#!/usr/bin/env bash
# Daemon benchmark: vellumd backfilling a 20,000-URL sitemap from nginx on 127.0.0.1, then idle.
#
# The site is every page of the shared news corpus (decompressed, as in bench/capture.sh) served
# under /site/ and under as many /copyN/ prefixes as it takes to list $URLS distinct URLs in one
# sitemap.xml. For each mode in $MODES (extract: article extraction on, the default; plain:
# archive.extract = false), into a fresh archive:
#   1. backfill: start vellumd with one sitemap source (interval 1h) and measure the wall time
#      until `vellum status` shows every URL captured and nothing queued, in flight or storing
#      (pages/s), the peak RSS (VmRSS sampled every 0.2 s, and VmHWM at the end; target
#      <= 200 MB) and the daemon's CPU time;
#   2. idle after the backfill: the same process, 2 s after the last capture, left alone for
#      $IDLE seconds: VmRSS, the CPU time (utime + stime) and the context switches of its
#      threads in that window, and what the RSS is made of (/proc/PID/smaps: heap and other
#      anonymous memory vs. the executable and shared libraries);
#   3. idle after a restart: vellumd stopped (SIGTERM) and started again on the same archive,
#      state and index; once it answers on its control socket and has settled for 2 s, the same
#      measures (targets: VmRSS <= 30 MB, no CPU time);
#   4. `vellum verify` on the archive (timed) and the archive's size.
# The daemon's next source run and the first revisits are an hour away, so it has nothing to do
# in either idle window.
#
#   bench/daemon.sh [BUILD_DIR]        (default: build; uses core/vellumd, core/vellum, plugins/)
#   environment: URLS (default 20000), IDLE (seconds, default 30), MODES (default "extract plain")
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/corpus-site.sh
. "$here/bench/corpus-site.sh"
build=${1:-$here/build}
vellumd=$build/core/vellumd
vellum=$build/core/vellum
plugins=$build/plugins
corpus=$here/../shared/corpus
n=${URLS:-20000}
idle=${IDLE:-30}
modes=${MODES:-extract plain}
settle=2
if [ ! -x "$vellumd" ] || [ ! -x "$vellum" ]; then
  echo "daemon.sh: build first (scripts/dev.sh build)" >&2
  exit 2
fi
[ -d "$corpus" ] || { echo "daemon.sh: no corpus at $corpus" >&2; exit 2; }
for t in nginx python3; do
  command -v $t >/dev/null || [ -x /usr/sbin/$t ] || { echo "daemon.sh: needs $t" >&2; exit 2; }
done
for m in $modes; do
  case $m in extract | plain) ;; *) echo "daemon.sh: unknown mode '$m' (extract, plain)" >&2; exit 2 ;; esac
done

work=$(mktemp -d /tmp/vellum-daemon-bench-XXXXXX)
daemon_pid=""
stop_daemon() {  # SIGTERM (vellumd drains and exits), SIGKILL if it is still there after 60 s
  [ -n "$daemon_pid" ] || return 0
  kill -TERM "$daemon_pid" 2>/dev/null || true
  for _ in $(seq 600); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$daemon_pid" 2>/dev/null || true
  wait "$daemon_pid" 2>/dev/null || true
  daemon_pid=""
}
cleanup() {
  stop_daemon
  kill "$(cat "$work/nginx.pid" 2>/dev/null)" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
corpus_site "$corpus" "$work"
pages=$(wc -l <"$work/pages.txt")
copies=$(((n + pages - 1) / pages - 1))
for c in $(seq "$copies"); do ln -s site "$work/site/copy$c"; done
serve_site "$work"

for prefix in site $(seq -f 'copy%g' "$copies"); do
  sed "s|^|$base/$prefix/|" "$work/pages.txt"
done | awk -v n="$n" 'NR <= n' >"$work/urls.txt"  # reads it all: no SIGPIPE, unlike head
{
  echo '<?xml version="1.0" encoding="UTF-8"?>'
  echo '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
  sed 's|.*|<url><loc>&</loc></url>|' "$work/urls.txt"
  echo '</urlset>'
} >"$work/site/sitemap.xml"
n=$(wc -l <"$work/urls.txt")
html_bytes=$(while read -r p; do stat -c %s "$work/site/site/$p"; done <"$work/pages.txt" |
  awk '{s+=$1} END {print s}')
sitemap_bytes=$(stat -c %s "$work/site/sitemap.xml")
served_mib=$(python3 -c "print(round($html_bytes * $n / $pages / 1048576))")

dir_bytes() { du -sb --apparent-size "$@" 2>/dev/null | awk '{s+=$1} END {print s+0}'; }
now() { date +%s.%N; }

# One Python helper for /proc and the control socket, so that the measuring loop does not start a
# process per sample (it starts `vellum status` twice a second during the backfill only).
cat >"$work/probe.py" <<'PY'
import json, os, shlex, subprocess, sys, time

TICK = os.sysconf("SC_CLK_TCK")

def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0

def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime

def ask(vellum, socket):
    try:
        r = subprocess.run([vellum, "--socket", socket, "--json", "status"], capture_output=True,
                           text=True, timeout=30)
        return json.loads(r.stdout) if r.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None  # not answering yet, or busy: asked again shortly

def out(**kv):
    for k, v in kv.items():
        print(f"{k}={shlex.quote(str(v))}")

def backfill(vellum, socket, pid, n, t0, limit):
    peak = 0
    next_ask = 0.0
    while True:
        if not os.path.exists(f"/proc/{pid}"):
            sys.exit("vellumd exited during the backfill")
        peak = max(peak, status_kb(pid, "VmRSS"))
        now = time.time()
        if now >= next_ask:
            next_ask = now + 0.5
            s = ask(vellum, socket)
            if s:
                q, u = s["queue"], s["urls"]
                idle = q["queued"] == 0 and q["in_flight"] == 0 and q["storing"] == 0
                if u["known"] >= n and idle and u["captured"] + u["given_up"] >= n:
                    t1 = time.time()
                    src = s["sources"][0] if s["sources"] else {}
                    out(seconds=f"{t1 - t0:.2f}", rss_peak_sampled_kb=peak,
                        hwm_kb=status_kb(pid, "VmHWM"), rss_kb=status_kb(pid, "VmRSS"),
                        cpu_ms=cpu_ticks(pid) * 1000 // TICK, captured=u["captured"],
                        given_up=u["given_up"], captures=s["captures"], errors=s["errors"],
                        source_runs=src.get("runs", 0), source_error=src.get("last_error", ""))
                    return
        if now - t0 > limit:
            sys.exit(f"the backfill did not finish within {limit} s")
        time.sleep(0.2)

def wait_ready(vellum, socket, pid, t0):
    while True:
        if not os.path.exists(f"/proc/{pid}"):
            sys.exit("vellumd exited at start-up")
        s = ask(vellum, socket) if os.path.exists(socket) else None
        if s:
            out(seconds=f"{time.time() - t0:.3f}", cpu_ms=cpu_ticks(pid) * 1000 // TICK)
            return
        if time.time() - t0 > 120:
            sys.exit("vellumd did not answer on its control socket within 120 s")
        time.sleep(0.05)

def smaps(pid):
    """RSS by kind: anonymous (heap, malloc arenas, SQLite page cache, thread stacks) against
    file-backed (the executable, shared libraries, plugins), and the largest files."""
    anon = heap = stack = 0
    files = {}
    name = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split()
            if not head[0].endswith(":") or "-" in head[0]:
                name = head[5] if len(head) > 5 else ""
                continue
            if head[0] != "Rss:":
                continue
            kb = int(head[1])
            if name == "[heap]":
                heap += kb
            elif name.startswith("[stack"):
                stack += kb
            elif name == "" or name.startswith("["):
                anon += kb
            else:
                base = os.path.basename(name)
                files[base] = files.get(base, 0) + kb
    top = sorted(files.items(), key=lambda kv: -kv[1])[:6]
    return heap, anon, stack, sum(files.values()), top

def switches(pid):
    """Context switches of every thread: each time one of them woke up (or was preempted)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            for line in f:
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
    return total

def idle(pid, seconds, vellum, socket):
    c0, r0, w0 = cpu_ticks(pid), status_kb(pid, "VmRSS"), switches(pid)
    time.sleep(seconds)
    c1, r1, w1 = cpu_ticks(pid), status_kb(pid, "VmRSS"), switches(pid)
    heap, anon, stack, files, top = smaps(pid)
    rollup = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            p = line.split()
            if len(p) >= 2 and p[0].endswith(":") and p[1].isdigit():
                rollup[p[0][:-1]] = int(p[1])
    s = ask(vellum, socket) or {}
    threads = len(os.listdir(f"/proc/{pid}/task"))
    out(rss_start_kb=r0, rss_kb=r1, cpu_ms=(c1 - c0) * 1000 // TICK, wakeups=w1 - w0,
        hwm_kb=status_kb(pid, "VmHWM"), pss_kb=rollup.get("Pss", 0), anon_kb=rollup.get("Anonymous", 0), heap_kb=heap,
        anon_mmap_kb=anon, stack_kb=stack, file_kb=files, threads=threads,
        top_files=", ".join(f"{name} {kb // 1024 if kb >= 10240 else round(kb / 1024, 1)} MB"
                            for name, kb in top),
        queued=s.get("queue", {}).get("queued", "?"), captures=s.get("captures", "?"))

cmd = sys.argv[1]
if cmd == "backfill":
    backfill(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), 3600)
elif cmd == "ready":
    wait_ready(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
elif cmd == "idle":
    idle(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5])
PY
probe() { python3 "$work/probe.py" "$@"; }

start_daemon() {  # start_daemon CONFIG LOG
  "$vellumd" --config "$1" 2>>"$2" &
  daemon_pid=$!
}

echo "workload: $n URLs in one sitemap.xml ($sitemap_bytes bytes), $pages corpus pages" \
  "under $((copies + 1)) prefixes, $served_mib MiB of HTML, nginx on 127.0.0.1, $(nproc) cores"

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
results=$work/results.txt
: >"$results"
for mode in $modes; do
  run=$work/$mode
  mkdir -p "$run"
  extract=true; [ "$mode" = plain ] && extract=false
  cat >"$run/vellum.toml" <<CONF
[archive]
dir = "$run/archive"
extract = $extract

[plugins]
dirs = ["$plugins"]

[fetch]
allow_private_networks = true
per_host_delay = "0s"
per_host_concurrency = 16
concurrency = 16

[schedule]
max_new_per_run = $n

[daemon]
socket = "$run/vellumd.sock"

[log]
level = "warn"

[[source]]
name = "bench-sitemap"
kind = "sitemap"
url = "$base/sitemap.xml"
interval = "1h"
CONF
  "$vellumd" --config "$run/vellum.toml" --check-config >/dev/null
  log=$run/vellumd.log

  echo "[$mode] backfill..." >&2
  t0=$(now)
  start_daemon "$run/vellum.toml" "$log"
  probe backfill "$vellum" "$run/vellumd.sock" "$daemon_pid" "$n" "$t0" >"$run/backfill.env" ||
    { tail -20 "$log" >&2; exit 1; }
  sleep "$settle"
  echo "[$mode] idle after the backfill (${idle} s)..." >&2
  probe idle "$daemon_pid" "$idle" "$vellum" "$run/vellumd.sock" >"$run/idle1.env"
  t0=$(now); stop_daemon; t1=$(now)
  stop_s=$(python3 -c "print(f'{$t1 - $t0:.2f}')")

  echo "[$mode] restart, idle (${idle} s)..." >&2
  t0=$(now)
  start_daemon "$run/vellum.toml" "$log"
  probe ready "$vellum" "$run/vellumd.sock" "$daemon_pid" "$t0" >"$run/start.env" ||
    { tail -20 "$log" >&2; exit 1; }
  sleep "$settle"
  probe idle "$daemon_pid" "$idle" "$vellum" "$run/vellumd.sock" >"$run/idle2.env"
  stop_daemon

  echo "[$mode] verify..." >&2
  t0=$(now)
  verify_out=$("$vellum" --archive "$run/archive" verify 2>&1) && verify=ok || verify=FAILED
  t1=$(now)
  verify_s=$(python3 -c "print(f'{$t1 - $t0:.1f}')")
  warnings=$(grep -cE ' (warning|error|critical) ' "$log" || true)

  a=$run/archive
  {
    echo "mode=$mode stop_s=$stop_s verify=$verify verify_s=$verify_s warnings=$warnings"
    echo "verify_line=$(printf '%q' "$(echo "$verify_out" | tail -1)")"
    echo "warc_bytes=$(dir_bytes "$a/warc") articles_bytes=$(dir_bytes "$a/articles")"
    echo "index_bytes=$(dir_bytes "$a"/index.sqlite3*) state_bytes=$(dir_bytes "$a"/state.sqlite3*)"
    echo "total_bytes=$(dir_bytes "$a")"
    sed 's/^/bf_/' "$run/backfill.env"
    sed 's/^/i1_/' "$run/idle1.env"
    sed 's/^/st_/' "$run/start.env"
    sed 's/^/i2_/' "$run/idle2.env"
  } >"$run/all.env"
  echo "$run/all.env" >>"$results"
  rm -rf "$a"  # a few GB per mode on disk; the figures are kept
done

# The figures.
echo
echo "settings: fetch.concurrency 16, per_host_concurrency 16, per_host_delay 0s," \
  "allow_private_networks; schedule.max_new_per_run $n; one sitemap source, interval 1h;" \
  "log.level warn; archive zstd level 3, sync always; idle windows ${idle} s after ${settle} s settling"
echo "CPU times are in clock ticks of $((1000 / $(getconf CLK_TCK))) ms; RSS in MB of 2^20 bytes, archive sizes in MB of 10^6 bytes"
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1);" \
  "load average $load_before at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
while read -r env; do
  # shellcheck disable=SC1090,SC2154  # the figures are the variables of the sourced file
  (
    . "$env"
    echo
    echo "== $mode ($([ "$mode" = plain ] && echo 'archive.extract = false' || echo 'articles extracted'))"
    SOURCE_ERROR=$bf_source_error TOP_FILES=$i2_top_files VERIFY_LINE=$verify_line python3 - <<PY
import os
n = $n
s = float("$bf_seconds")
print(f"backfill: {n} URLs in {s:.1f} s = {n / s:.0f} pages/s; captured $bf_captured, given up $bf_given_up, errors $bf_errors, source runs $bf_source_runs")
if os.environ["SOURCE_ERROR"]: print("  source error:", os.environ["SOURCE_ERROR"])
print(f"  daemon CPU {$bf_cpu_ms / 1000:.1f} s ({$bf_cpu_ms / n:.2f} ms per page); warnings and errors logged: $warnings")
print(f"  peak RSS: {$bf_hwm_kb / 1024:.1f} MB VmHWM ({$bf_rss_peak_sampled_kb / 1024:.1f} MB highest sampled VmRSS)   (target <= 200 MB)")
print(f"idle after the backfill ({$idle} s): VmRSS {$i1_rss_kb / 1024:.1f} MB (Pss {$i1_pss_kb / 1024:.1f} MB), CPU {$i1_cpu_ms} ms, context switches {$i1_wakeups}")
print(f"  RSS by mapping: brk heap {$i1_heap_kb / 1024:.1f} MB, other anonymous maps (malloc arenas, thread stacks) {$i1_anon_mmap_kb / 1024:.1f} MB, main stack {$i1_stack_kb / 1024:.1f} MB, executable and libraries {$i1_file_kb / 1024:.1f} MB; {$i1_threads} threads")
print(f"stop (SIGTERM to exit): $stop_s s; restart until the control socket answers: $st_seconds s, {$st_cpu_ms} ms CPU")
print(f"idle after a restart ({$idle} s): VmRSS {$i2_rss_kb / 1024:.1f} MB (Pss {$i2_pss_kb / 1024:.1f} MB, VmHWM {$i2_hwm_kb / 1024:.1f} MB), CPU {$i2_cpu_ms} ms, context switches {$i2_wakeups}   (targets <= 30 MB, none)")
print(f"  RSS by mapping: brk heap {$i2_heap_kb / 1024:.1f} MB, other anonymous maps (malloc arenas, thread stacks) {$i2_anon_mmap_kb / 1024:.1f} MB, main stack {$i2_stack_kb / 1024:.1f} MB, executable and libraries {$i2_file_kb / 1024:.1f} MB; {$i2_threads} threads")
print(f"  the restarted daemon: queued $i2_queued, captures $i2_captures")
print(f"  anonymous pages in all (copy-on-write library data included): {$i2_anon_kb / 1024:.1f} MB")
print("  largest files:", os.environ["TOP_FILES"])
print(f"archive: {$total_bytes / 1e6:.0f} MB (WARC {$warc_bytes / 1e6:.0f} MB, articles {$articles_bytes / 1e6:.1f} MB, index {$index_bytes / 1e6:.1f} MB, state {$state_bytes / 1e6:.1f} MB)")
print(f"verify: $verify in $verify_s s ({os.environ['VERIFY_LINE']})")
PY
  )
done <"$results"
