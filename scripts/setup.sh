#!/bin/sh
# Installs the Debian packages Basalt needs to build and test, only when
# some are missing. Idempotent and quiet when everything is present.
set -eu

PACKAGES="gcc make pkg-config clang libclang-rt-14-dev
libmicrohttpd-dev libsqlite3-dev sqlite3 libjson-c-dev libssl-dev libpcre2-dev
libcrypt-dev zlib1g-dev libcurl4-openssl-dev libmagic-dev libgd-dev libzip-dev
libjavascriptcoregtk-4.1-dev
postgresql libpq-dev
nats-server libnats-dev nginx
nodejs npm python3"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    # nodejs/npm may come from outside Debian; a working command is enough.
    case "$p" in
      nodejs) command -v node >/dev/null 2>&1 && continue ;;
      npm) command -v npm >/dev/null 2>&1 && continue ;;
      python3) command -v python3 >/dev/null 2>&1 && continue ;;
    esac
    missing="$missing $p"
  fi
done

[ -z "$missing" ] && exit 0

echo "Installing missing packages:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 && SUDO="sudo" || {
    echo "Need root (or sudo) to install:$missing" >&2
    exit 1
  }
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
