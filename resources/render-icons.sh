#!/usr/bin/env bash
# Render the app icon's SVG sources into the PNGs the app and the desktop use:
#   dedup_gui/resources/icons/hicolor/<N>x<N>/apps/<APP_ID>.png  for N in 16..512
# (the hicolor theme layout, so packaging/linux/install-desktop-files.sh copies it as is).
# Needs rsvg-convert (Debian/Ubuntu: apt-get install librsvg2-bin). The PNGs are committed,
# so this only runs after the drawing changes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
app_id="io.github.dedup_gui.DedupGui"
out="$here/../dedup_gui/resources/icons/hicolor"

for size in 16 24 32 48 64 128 256 512; do
  source="$here/$app_id.svg"
  # 16 px has its own drawing on the pixel grid; scaled down, the full one turns to mush.
  [ "$size" -eq 16 ] && source="$here/$app_id-16.svg"
  mkdir -p "$out/${size}x${size}/apps"
  rsvg-convert --width "$size" --height "$size" "$source" \
    --output "$out/${size}x${size}/apps/$app_id.png"
done
echo "Rendered $(ls "$out" | wc -l) sizes into $out"
