# Sourced by the example scripts: use the in-tree plugin of the build directory
# (LERF_BUILD_DIR, default build/) and a registry of its own.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${LERF_BUILD_DIR:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
if [ ! -f "$BUILD/gst-plugin/libgstlerf.so" ]; then
  echo "examples: $BUILD/gst-plugin/libgstlerf.so not found; build first: meson setup build && meson compile -C build" >&2
  exit 1
fi
export GST_PLUGIN_PATH="$BUILD/gst-plugin${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
export GST_REGISTRY="$BUILD/gst-registry.bin"
CLIP=${CLIP:-/usr/share/doc/opencv-doc/examples/data/vtest.avi}  # 768x576, 10 fps (Debian opencv-doc)
OUT="$ROOT/out"
mkdir -p "$OUT"

# The learned method to use: lerf-g when a model is found (LERF_MODEL_DIR, models/, the
# installed data directory), else lanczos, saying so.
pick_method() {
  if "$BUILD/tools/lerf" info 2>/dev/null | grep "^  lerf-g  model: " | grep -vq "model: none"; then
    echo lerf-g
  else
    echo "examples: no lerf-g model found (set LERF_MODEL_DIR or train one into models/lerf-g); using lanczos" >&2
    echo lanczos
  fi
}
