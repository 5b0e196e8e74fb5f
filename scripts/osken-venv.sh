#!/usr/bin/env bash
# Creates (once) the virtualenv with the os-ken OpenFlow controller that the
# OpenFlow tests run as a real controller (SPEC §10): os-ken 1.4.1 is the
# last release that ships `os_ken.app.simple_switch_13`; it needs eventlet
# 0.30.2, which needs Python < 3.10, so the venv is made from a Python 3.9
# (pyenv's, or a python3.9 on PATH). Idempotent and safe to run from tests
# in parallel (flock). Usage: scripts/osken-venv.sh [DIR]  (default
# target/osken-venv); prints the venv's osken-manager path.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$here/target/osken-venv}"
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9
if [ -x "$dir/bin/osken-manager" ] && [ -f "$dir/.complete" ]; then
    echo "$dir/bin/osken-manager"
    exit 0
fi
py=""
# pyenv's own 3.9 first: its `python3.9` shim on PATH fails unless 3.9 is
# the selected version.
for c in "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")/versions/3.9"*/bin/python3.9 python3.9; do
    if "$c" -c 'import sys; assert sys.version_info[:2] == (3, 9)' >/dev/null 2>&1; then py="$c"; break; fi
done
if [ -z "$py" ]; then
    echo "osken-venv: no Python 3.9 found (os-ken 1.4.1 with eventlet 0.30.2 needs Python < 3.10); install one (e.g. pyenv install 3.9)" >&2
    exit 1
fi
rm -rf "$dir"
"$py" -m venv "$dir"
"$dir/bin/pip" install --quiet --disable-pip-version-check "os-ken==1.4.1" "eventlet==0.30.2" >&2
touch "$dir/.complete"
echo "$dir/bin/osken-manager"
