#!/usr/bin/env bash
# Makes sure the notification tests can run a real SMTP server on loopback: aiosmtpd from PyPI,
# pinned, in a virtualenv cached under ~/.cache/maitred. Sourced by test.sh after services.sh
# (which defines apt_install); exports MAITRED_AIOSMTPD, the venv's python, which the tests
# start as `python -m aiosmtpd -n -l 127.0.0.1:PORT -c aiosmtpd.handlers.Mailbox MAILDIR`.
set -euo pipefail

AIOSMTPD_VERSION=1.4.6

ensure_aiosmtpd() {
  local venv="${XDG_CACHE_HOME:-$HOME/.cache}/maitred/aiosmtpd-$AIOSMTPD_VERSION"
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
    echo "installing aiosmtpd $AIOSMTPD_VERSION into $venv..."
    # Debian's python3 leaves venv (and its pip) to a package of its own.
    python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3 python3-venv
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "aiosmtpd==$AIOSMTPD_VERSION"
  fi
  export MAITRED_AIOSMTPD="$venv/bin/python"
}

ensure_aiosmtpd
