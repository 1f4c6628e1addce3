#!/usr/bin/env bash
# Build the one-folder bundle: dist/dedup-gui/dedup-gui (run from anywhere).
#   packaging/build-bundle.sh            build into ./dist and ./build of the repository
#   DIST=/tmp/out packaging/build-bundle.sh
# Needs the project and PyInstaller in the current Python: pip install -e ".[bundle]"
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dist="${DIST:-$repo/dist}"
work="${WORK:-$repo/build/pyinstaller}"

python -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$dist" --workpath "$work" "$repo/packaging/dedup-gui.spec"

echo "Built $dist/dedup-gui ($(du -sh "$dist/dedup-gui" | cut -f1)); try: $dist/dedup-gui/dedup-gui --self-check"
