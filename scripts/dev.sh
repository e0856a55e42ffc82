#!/usr/bin/env bash
# Set up a Debian 12 machine for Vellum, build it, and run it or its tests.
#
#   scripts/dev.sh run             install, build, run vellumd in the foreground with
#                                  examples/vellum.toml (Ctrl-C drains and stops it)
#   scripts/dev.sh test            install, build, run the whole test suite
#   scripts/dev.sh test --sanitize the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   scripts/dev.sh archive [URL...] install, build, archive the URLs now, restore the first one
#   scripts/dev.sh build           install and build only
#   scripts/dev.sh fuzz [--ci] [SECONDS] [TARGET...]
#                                  install clang, then scripts/fuzz.sh (libFuzzer targets)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

packages=(
  cmake g++ make pkg-config ca-certificates
  libboost-dev libboost-filesystem-dev libcurl4-openssl-dev libzstd-dev zlib1g-dev
  libbrotli-dev libssl-dev libspdlog-dev libfmt-dev libgtest-dev libxml2-dev libsqlite3-dev
  libtomlplusplus-dev libcli11-dev nlohmann-json3-dev libsystemd-dev libidn2-dev
  # used by the tests: loopback web server, peer tools for interop checks
  nginx-light zstd wget curl openssl systemd procps groff-base python3
)

install_packages() {  # install_packages [EXTRA-PACKAGE...]
  local missing=()
  for p in "${packages[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # Node.js runs warcio.js in the interoperability tests; any installed node and npm will do.
  command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "dev.sh: installing ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

build() {  # build DIR [cmake args...]
  local dir=$1
  shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j "$(nproc)"
}

# warcio.js for the interoperability tests, installed once into the build tree.
install_warcio() {
  local dir=$1/npm
  if [ ! -d "$dir/node_modules/warcio" ]; then
    mkdir -p "$dir"
    # A failure here is reported again, precisely, by the interoperability tests.
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error warcio >&2 ||
      echo "dev.sh: npm install warcio failed; the warcio.js interop tests will fail" >&2
  fi
  export VELLUM_NPM_PREFIX=$dir
}

cmd=${1:-}
shift || true
case "$cmd" in
  build)
    install_packages
    build build
    ;;
  run)
    install_packages
    build build
    echo "dev.sh: vellumd is starting with examples/vellum.toml; archive in ./vellum-archive;" >&2
    echo "dev.sh: in another terminal: build/core/vellum --config examples/vellum.toml status" >&2
    exec ./build/core/vellumd --config examples/vellum.toml "$@"
    ;;
  archive)
    install_packages
    build build
    urls=("$@")
    [ ${#urls[@]} -gt 0 ] || urls=(https://thenextweb.com/news/meta-muse-spark-msl-first-model)
    status=0
    ./build/core/vellum archive "${urls[@]}" || status=$?
    # Restore the first URL that was captured.
    for u in "${urls[@]}"; do
      if ./build/core/vellum -q restore "$u" --format html -o vellum-archive/restored.html 2>/dev/null; then
        echo "restored $u to vellum-archive/restored.html ($(wc -c <vellum-archive/restored.html) bytes); its article:"
        echo
        ./build/core/vellum restore "$u" --format text
        break
      fi
    done
    [ -f vellum-archive/index.sqlite3 ] && ./build/core/vellum list --limit 10
    exit $status
    ;;
  test)
    install_packages
    dir=build
    args=()
    if [ "${1:-}" = "--sanitize" ]; then
      dir=build-sanitize
      args=(-DVELLUM_SANITIZE=ON -DVELLUM_BUILD_BENCH=OFF)
      export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
      export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    fi
    build "$dir" "${args[@]}"
    install_warcio "$here/$dir"
    ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" --timeout 900
    ;;
  fuzz)
    install_packages clang libclang-rt-14-dev
    exec scripts/fuzz.sh "$@"
    ;;
  *)
    sed -n '2,12p' "$0" >&2
    exit 2
    ;;
esac
