#!/usr/bin/env bash
# Creates .venv with Python 3.10 and the pinned packages, once per change of
# requirements.txt / constraints.txt. `--browser` also installs Debian's
# Chromium and its driver for the browser tests, and Dovecot for the mail tests.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  for candidate in python3.10 "$(command -v pyenv >/dev/null 2>&1 && pyenv root)/versions/"3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
    if [ -x "$(command -v "$candidate" 2>/dev/null || echo "$candidate")" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}

stamp=.venv/.pcn-installed
want=$(cat requirements.txt constraints.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  python=$(find_python) || { echo "Python 3.10 is required (Rasa 3.6). Install python3.10 and retry." >&2; exit 1; }
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade "pip<25" wheel
  echo "Installing Python packages into .venv (about 2 minutes the first time)…"
  .venv/bin/python -m pip install --quiet -r requirements.txt -c constraints.txt
  .venv/bin/python -m pip check
  echo "$want" > "$stamp"
fi

if [ "${1:-}" = "--browser" ] && ! { command -v chromium >/dev/null && command -v chromedriver >/dev/null; }; then
  echo "Installing Debian's chromium and chromium-driver for the browser tests…"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# The mail tests start a real IMAP server (Debian's Dovecot) on a loopback port of their own.
if [ "${1:-}" = "--browser" ] && ! command -v dovecot >/dev/null && [ ! -x /usr/sbin/dovecot ]; then
  echo "Installing Debian's dovecot-imapd for the mail tests…"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dovecot-imapd >/dev/null
fi
