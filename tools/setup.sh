#!/usr/bin/env bash
# tools/setup.sh — installs everything wsgate needs to build, test and run, from Debian's
# packages and the npm registry only. Idempotent: a second run installs nothing new.
#
#   tools/setup.sh            # build + test dependencies
#   tools/setup.sh --bench    # also nginx and haproxy for bench/compare
set -euo pipefail

want_bench=0
for arg in "$@"; do
  case "$arg" in
    --bench) want_bench=1 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

packages=(
  build-essential cmake ninja-build pkg-config
  liburing-dev libwslay-dev android-libboringssl-dev
  libabsl-dev libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libsqlite3-dev libssl-dev libbenchmark-dev libgtest-dev libgmock-dev
  libcpp-httplib-dev nlohmann-json3-dev libyaml-cpp-dev libzip-dev
  libhiredis-dev redis-server  # cluster-wide quotas (issue 19): the engine links hiredis; the quota tests start their own redis-server
  prometheus  # promtool and the server the metrics tests scrape with (they start their own on an ephemeral port)
  clang libclang-rt-14-dev
  curl ca-certificates ccache
  help2man dpkg-dev file systemd  # man pages, dpkg-shlibdeps, `systemd-analyze verify` (tools/package_test.sh)
  prometheus  # promtool: the agent's /metrics is checked with `promtool check metrics`
  libpq-dev postgresql  # the catalog on PostgreSQL (issue 19): the agent links libpq; the catalog tests start their own server (initdb, ephemeral port)
  libcurl4-openssl-dev  # the agent fetches identity providers' JWKS with libcurl (OpenSSL flavour; agent only)
  python3-cryptography  # tests/e2e/idp_server.py signs the external IdP's tokens (RSA and EC)
  iproute2  # `ip netns`: the multi-host tests put each agent+engine pair in its own network namespace
  chromium    # the web console's end-to-end test drives it headless (puppeteer-core, below)
)
# Node.js + npm only for wscat. Machines that already have a Node.js with its own npm (e.g. from
# NodeSource, whose nodejs package conflicts with Debian's npm) keep theirs.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
if [ "$want_bench" = 1 ]; then packages+=(nginx-light haproxy); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# wscat is the client the walkthrough uses, puppeteer-core drives Debian's chromium for the
# console test (it downloads no browser); tests drive the real things. Both are installed into
# the repository (tools/node_modules, git-ignored) so no global npm state is touched.
here="$(cd "$(dirname "$0")" && pwd)"
if [ ! -x "$here/node_modules/.bin/wscat" ] || [ ! -f "$here/node_modules/puppeteer-core/package.json" ]; then
  echo "setup: installing wscat and puppeteer-core from npm"
  (cd "$here" && npm install --no-audit --no-fund --silent >/dev/null)
fi
echo "setup: dependencies ready"
