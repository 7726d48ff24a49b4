#!/usr/bin/env bash
# `meson install` (staged with DESTDIR) puts the plugin in GStreamer's own plugin directory and
# the models in the data directory; gst-inspect-1.0 then finds lerfscale from the system
# plugin path alone (no GST_PLUGIN_PATH).
set -euo pipefail
build=$1
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
DESTDIR=$stage meson install -C "$build" --quiet --no-rebuild >/dev/null
plugins=$(pkg-config --variable=pluginsdir gstreamer-1.0)
prefix=$(meson introspect "$build" --buildoptions | python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"))')
test -f "$stage$plugins/libgstlerf.so" || { echo "plugin not in $plugins"; exit 1; }
for m in lerf-g lerf-l; do
  if [ -d models/$m ]; then
    test -f "$stage$prefix/share/lerfscale/models/$m/LUTft_s2_sr1.npy" || { echo "model $m not installed"; exit 1; }
  fi
done
out=$(env -u GST_PLUGIN_PATH GST_REGISTRY="$stage/registry.bin" \
      GST_PLUGIN_SYSTEM_PATH="$stage$plugins:$plugins" gst-inspect-1.0 lerfscale)
for want in "lerfscale" "method" "lerf-g" "backend" "model-dir" "n-threads" "add-borders"; do
  grep -q -- "$want" <<<"$out" || { echo "gst-inspect-1.0 lerfscale lacks '$want'"; exit 1; }
done
warp=$(env -u GST_PLUGIN_PATH GST_REGISTRY="$stage/registry.bin" GST_PLUGIN_SYSTEM_PATH="$stage$plugins:$plugins" \
       gst-inspect-1.0 lerfwarp)
grep -q matrix <<<"$warp" || { echo "lerfwarp not found"; exit 1; }
echo "installed plugin found by gst-inspect-1.0; models in $prefix/share/lerfscale/models"
