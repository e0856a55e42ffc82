#!/usr/bin/env bash
# Fuzz Vellum's parsers with libFuzzer (clang, ASan + UBSan). `scripts/dev.sh fuzz ...` installs
# clang first and runs this.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   build, seed, then run each target SECONDS (default
#                                           1800) with FUZZ_JOBS parallel jobs (default: one
#                                           per core)
#   scripts/fuzz.sh --ci                    every target over its seed and regression corpus,
#                                           then 20 s of new inputs each (what CI runs)
#
# Targets: warc feed html domscope config url robots. Seeds are written to build-fuzz/corpus/<target>
# (small real inputs, pages of the shared news corpus, the shipped configuration files); new
# inputs that libFuzzer finds stay there between runs. A crash leaves its input in
# build-fuzz/findings/<target>/; once fixed, copy it to fuzz/regressions/<target>/ so that every
# later run (and CI) replays it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
command -v clang++ >/dev/null ||
  { echo "fuzz.sh: clang++ is needed (scripts/dev.sh fuzz installs it)" >&2; exit 2; }

ci=0
if [ "${1:-}" = "--ci" ]; then
  ci=1
  shift
fi
seconds=1800
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(warc feed html domscope config url robots)

jobs=${FUZZ_JOBS:-$(nproc)}
dir=build-fuzz
CC=clang CXX=clang++ cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVELLUM_FUZZ=ON \
  -DVELLUM_BUILD_TESTS=OFF -DVELLUM_BUILD_BENCH=OFF -DVELLUM_BUILD_PLUGINS=OFF >/dev/null
cmake --build "$dir" -j "$(nproc)" --target fuzz_seeds "${targets[@]/#/fuzz_}"

corpus=$dir/corpus
"$dir/fuzz/fuzz_seeds" "$corpus"
mkdir -p "$corpus/config" "$corpus/html" "$corpus/domscope"
cp etc/vellum.toml "$corpus/config/shipped.toml"
cp examples/vellum.toml "$corpus/config/example.toml"
shared=../shared/corpus
if [ -d "$shared" ]; then
  # A few dozen real news pages (the first byte of an html input picks the claimed charset).
  n=0
  while IFS= read -r -d '' page; do
    out="$corpus/html/$(basename "$page" .gz)"
    [ -f "$out" ] || { printf 'x'; gzip -dc "$page"; } >"$out"
    out="$corpus/domscope/$(basename "$page" .gz)"
    [ -f "$out" ] || gzip -dc "$page" >"$out"
    n=$((n + 1))
    [ $n -lt 40 ] || break
  done < <(find "$shared" -name '*.html.gz' -print0 | sort -z)
fi

status=0
for t in "${targets[@]}"; do
  mkdir -p "$corpus/$t" "$dir/findings/$t"
  dirs=("$corpus/$t")
  [ -d "fuzz/regressions/$t" ] && dirs+=("fuzz/regressions/$t")
  # News pages are mostly 50-300 KB; html and domscope inputs are capped lower so that the
  # slowest targets (extraction, parsing twice) still run a useful number of inputs per second.
  max_len=1048576
  [ "$t" != html ] && [ "$t" != domscope ] || max_len=262144
  opts=(-max_len=$max_len -timeout=20 -rss_limit_mb=2048 "-artifact_prefix=$dir/findings/$t/")
  if [ $ci -eq 1 ]; then
    # Replay every seed and regression input, then look for new ones briefly.
    echo "fuzz.sh: $t: replaying ${dirs[*]}" >&2
    "$dir/fuzz/fuzz_$t" "${opts[@]}" -runs=0 "${dirs[@]}" 2>"$dir/findings/$t.log" ||
      { status=1; tail -40 "$dir/findings/$t.log" >&2; continue; }
    "$dir/fuzz/fuzz_$t" "${opts[@]}" -max_total_time=20 "${dirs[@]}" 2>>"$dir/findings/$t.log" ||
      { status=1; tail -40 "$dir/findings/$t.log" >&2; continue; }
  else
    echo "fuzz.sh: $t: fuzzing for $seconds s" >&2
    par=()
    [ "$jobs" -le 1 ] || par=(-jobs="$jobs" -workers="$jobs")
    "$dir/fuzz/fuzz_$t" "${opts[@]}" -max_total_time="$seconds" "${par[@]}" "${dirs[@]}" \
      >"$dir/findings/$t.log" 2>&1 || status=1
  fi
  grep -h "stat::number_of_executed_units\|Done [0-9]* runs\|^#[0-9]*.*DONE" \
    "$dir/findings/$t.log" fuzz-*.log 2>/dev/null | tail -1 | sed "s/^/fuzz.sh: $t: /" >&2 || true
done
rm -f fuzz-*.log
exit $status
