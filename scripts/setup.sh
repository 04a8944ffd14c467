#!/usr/bin/env bash
# Creates .venv with Python 3.10 and the pinned packages, once per change of
# the requirement files (a stamp file remembers what was installed).
#
#   scripts/setup.sh            runtime packages (requirements.txt): `make run`, `make serve`
#   scripts/setup.sh --dev      runtime + tests and lint (requirements-dev.txt): `make test`
#   scripts/setup.sh --system   also Debian's chromium + chromium-driver (browser tests),
#                               dovecot-imapd (mail tests) and nginx (production test)
#
# Both requirement files are installed under ONE constraints.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
system=0
for arg in "$@"; do
  case "$arg" in
    --dev) dev=1 ;;
    --system) system=1 ;;
    *) echo "usage: scripts/setup.sh [--dev] [--system]" >&2; exit 2 ;;
  esac
done

find_python() {
  for candidate in python3.10 "$(command -v pyenv >/dev/null 2>&1 && pyenv root)/versions/"3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
    if [ -x "$(command -v "$candidate" 2>/dev/null || echo "$candidate")" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}

requirements=(-r requirements.txt)
[ "$dev" = 1 ] && requirements+=(-r requirements-dev.txt)
stamp=.venv/.pcn-installed
# what is installed: the files' contents and whether the dev tools are in
want=$( { cat requirements.txt constraints.txt; [ "$dev" = 1 ] && cat requirements-dev.txt; echo "dev=$dev"; } | sha256sum | cut -d' ' -f1)
# a dev install also serves a runtime-only request
have=$(cat "$stamp" 2>/dev/null || true)
runtime_of_dev=$( { cat requirements.txt constraints.txt requirements-dev.txt; echo "dev=1"; } | sha256sum | cut -d' ' -f1)
if [ "$have" != "$want" ] && ! { [ "$dev" = 0 ] && [ "$have" = "$runtime_of_dev" ]; }; then
  python=$(find_python) || { echo "Python 3.10 is required (Rasa 3.6). Install python3.10 and retry." >&2; exit 1; }
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade "pip<25"
  echo "Installing Python packages into .venv (about 2 minutes the first time)…"
  .venv/bin/python -m pip install --quiet "${requirements[@]}" -c constraints.txt
  .venv/bin/python -m pip check
  echo "$want" > "$stamp"
fi

if [ "$system" = 1 ]; then
  missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
  # the mail tests start a real IMAP server (Debian's Dovecot) on a loopback port of their own
  command -v dovecot >/dev/null || [ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "Installing Debian packages for the tests: ${missing[*]}…"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi
