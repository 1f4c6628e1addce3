#!/usr/bin/env bash
# Put Dedup GUI into the desktop's application menu: the .desktop launcher, the AppStream
# metainfo, and the icons in the hicolor theme.
#
#   packaging/linux/install-desktop-files.sh [--prefix DIR] [--exec COMMAND] [--uninstall]
#
# --prefix   where to install; default ~/.local (just you). Use /usr/local for everyone (as root).
# --exec     the command the launcher runs; default `dedup-gui` (the pip-installed script).
#            For the bundle: --exec /opt/dedup-gui/dedup-gui
# --uninstall removes exactly the files this script installs.
set -euo pipefail
app_id="io.github.dedup_gui.DedupGui"
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
prefix="$HOME/.local"
exec_command="dedup-gui"
uninstall=false

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="$2"; shift 2 ;;
    --exec) exec_command="$2"; shift 2 ;;
    --uninstall) uninstall=true; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (try --help)" >&2; exit 2 ;;
  esac
done

share="$prefix/share"
png_tree="$repo/dedup_gui/resources/icons/hicolor"
installed=(
  "$share/applications/$app_id.desktop"
  "$share/metainfo/$app_id.metainfo.xml"
  "$share/icons/hicolor/scalable/apps/$app_id.svg"
)
for size_dir in "$png_tree"/*/; do
  installed+=("$share/icons/hicolor/$(basename "$size_dir")/apps/$app_id.png")
done

if $uninstall; then
  rm -f "${installed[@]}"
  echo "Removed Dedup GUI's desktop files from $share"
else
  install -D -m 644 "$here/$app_id.metainfo.xml" "$share/metainfo/$app_id.metainfo.xml"
  install -D -m 644 "$repo/resources/$app_id.svg" "$share/icons/hicolor/scalable/apps/$app_id.svg"
  for size_dir in "$png_tree"/*/; do
    size="$(basename "$size_dir")"
    install -D -m 644 "$size_dir/apps/$app_id.png" "$share/icons/hicolor/$size/apps/$app_id.png"
  done
  mkdir -p "$share/applications"
  # Exec= takes a quoted path when it has spaces; %F passes the dropped/opened folders.
  sed "s|^Exec=.*|Exec=\"${exec_command//|/\\|}\" %F|" "$here/$app_id.desktop" \
    > "$share/applications/$app_id.desktop"
  chmod 644 "$share/applications/$app_id.desktop"
  echo "Installed Dedup GUI's launcher, metainfo and icons under $share"
fi

# Refresh the menu and icon caches where the tools exist; harmless when they do not.
if command -v update-desktop-database >/dev/null; then
  update-desktop-database -q "$share/applications" 2>/dev/null || true
fi
if command -v gtk-update-icon-cache >/dev/null && [ -f "$share/icons/hicolor/index.theme" ]; then
  gtk-update-icon-cache -q -t "$share/icons/hicolor" || true
fi
