#!/usr/bin/env bash
# Makes sure the browser tests can run: Debian's Chromium and ChromeDriver, and axe-core (the
# accessibility checker the tests inject into each page) from the npm registry, cached under
# ~/.cache/maitred. Sourced by test.sh after services.sh (which defines apt_install).
set -euo pipefail

AXE_VERSION=4.14.1

ensure_chromium() {
  if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    return 0
  fi
  echo "installing Chromium and ChromeDriver..."
  apt_install chromium chromium-driver
}

ensure_axe() {
  local dir="$HOME/.cache/maitred/axe-core-$AXE_VERSION"
  if [ ! -f "$dir/axe.min.js" ]; then
    if ! command -v npm >/dev/null 2>&1; then apt_install npm; fi
    local scratch
    scratch=$(mktemp -d)
    (cd "$scratch" && npm pack --silent "axe-core@$AXE_VERSION" >/dev/null && tar -xzf axe-core-*.tgz)
    mkdir -p "$dir"
    cp "$scratch/package/axe.min.js" "$dir/axe.min.js"
    rm -rf "$scratch"
  fi
  export MAITRED_AXE_JS="$dir/axe.min.js"
}

ensure_chromium
ensure_axe
export MAITRED_CHROMEDRIVER="${MAITRED_CHROMEDRIVER:-$(command -v chromedriver)}"
