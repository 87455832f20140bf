#!/usr/bin/env bash
# Set up drumgen on Debian with Python 3.11: system packages (FluidSynth library, a General MIDI
# soundfont, Chromium and its driver for the studio's browser test), a virtual environment in
# .venv, and the pinned Python packages. Safe to run again: it skips what is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

# chromium + chromium-driver: the studio's end-to-end test drives the page in a headless browser
apt_packages=(libfluidsynth3 fluid-soundfont-gm chromium chromium-driver)
missing=()
for package in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
python3 -c "import ensurepip" 2>/dev/null || missing+=(python3-venv)
if ((${#missing[@]})); then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    echo "setup: installing ${missing[*]} with apt-get"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    echo "setup: creating the virtual environment .venv"
    python3 -m venv .venv
fi

stamp=.venv/.drumgen-setup
wanted=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "setup: installing Python packages (pinned in requirements.txt)"
    log=.venv/pip-install.log
    if ! { .venv/bin/python -m pip install --upgrade pip && .venv/bin/python -m pip install -r requirements.txt -e .; } >"$log" 2>&1; then
        tail -n 30 "$log"
        echo "setup: pip install failed; the whole log is in $log" >&2
        exit 1
    fi
    echo "$wanted" > "$stamp"
fi
echo "setup: ready (.venv)"
