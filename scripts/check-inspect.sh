#!/usr/bin/env bash
# `darkroom inspect` against Pillow's reading of the corpus (scripts/check-inspect.py), in a venv of
# its own with Pillow from PyPI (built with AVIF since 11.3). Needs the debug binary (scripts/test.sh
# builds it) and ../shared/corpus; without the corpus it checks testimages/ only and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${DARKROOM_PILLOW_VENV:-.build-venv-pillow}
if [[ ! -x "$VENV/bin/python" ]]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "pillow>=11.3"
fi
[[ -x .build/debug/darkroom ]] || swift build --product darkroom
if [[ ! -d ../shared/corpus ]]; then
    echo "check-inspect: ../shared/corpus is missing: checking testimages/ only" >&2
    exec "$VENV/bin/python" scripts/check-inspect.py testimages/*.jpg testimages/*.png
fi
exec "$VENV/bin/python" scripts/check-inspect.py
