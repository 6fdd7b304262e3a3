#!/usr/bin/env bash
# setup.sh installs what leadstream's tests and demo need beyond Go:
# redis-server and redis-cli (the tests start their own private servers),
# protoc (for `make proto`) and node (the tests run the tracker's snippet). Safe to run again: it installs only what
# is missing.
set -euo pipefail

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-cli >/dev/null || need+=(redis-tools)
command -v protoc >/dev/null || need+=(protobuf-compiler)
command -v node >/dev/null || need+=(nodejs)

if [ ${#need[@]} -eq 0 ]; then
  echo "setup: redis-server, redis-cli, protoc and node are installed"
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  cat >&2 <<MSG
setup: missing ${need[*]}, and this is not a Debian or Ubuntu machine.
Install them with your package manager, e.g.
  macOS:   brew install redis protobuf node
  Fedora:  dnf install redis protobuf-compiler nodejs
  Alpine:  apk add redis protobuf nodejs
MSG
  exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "setup: installing ${need[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# The package starts a system-wide Redis on 6379; leadstream never needs
# it (tests and the demo start private servers), so leave it as it is.
echo "setup: done"
