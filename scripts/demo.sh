#!/usr/bin/env bash
# The demo: set up, build, then upscale a few seconds of a real clip (Debian opencv-doc's
# vtest.avi, 768x576) 2x with lerfscale to out/demo-upscaled.mp4, and write a side-by-side
# still out/demo-side-by-side.png: videoscale method=lanczos (left) vs lerfscale (right).
# lerfscale uses lerf-g when a model is found (LERF_MODEL_DIR, models/lerf-g, the installed
# data directory), else says so and uses lanczos. LERF_BUILD_DIR picks the build directory.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
BUILD=${LERF_BUILD_DIR:-build}
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD"
meson compile -C "$BUILD"

export LERF_BUILD_DIR="$BUILD"
source examples/common.sh  # GST_PLUGIN_PATH=$BUILD/gst-plugin, CLIP, OUT, pick_method
METHOD=${METHOD:-$(pick_method)}
SECONDS_OF_VIDEO=${DEMO_SECONDS:-3}
W=1536 H=1152

if gst-inspect-1.0 x264enc > /dev/null 2>&1; then
  ENCODER="x264enc speed-preset=faster bitrate=8000 ! h264parse"
else
  ENCODER="avenc_mpeg4 bitrate=10000000"
fi

echo "demo: upscaling $SECONDS_OF_VIDEO s of $CLIP to ${W}x${H} with lerfscale method=$METHOD"
start=$(date +%s.%N)
gst-launch-1.0 -q filesrc location="$CLIP" ! decodebin ! identity eos-after=$((SECONDS_OF_VIDEO * 10)) \
  ! videoconvert ! video/x-raw,format=I420 \
  ! lerfscale method="$METHOD" ! video/x-raw,width=$W,height=$H \
  ! $ENCODER ! mp4mux ! filesink location="$OUT/demo-upscaled.mp4"
echo "demo: wrote $OUT/demo-upscaled.mp4 ($(python3 -c "print(f'{$(date +%s.%N) - $start:.1f}')") s)"

# One frame, both scalers, composed side by side (videoscale left, lerfscale right).
gst-launch-1.0 -q filesrc location="$CLIP" ! decodebin ! videoconvert ! video/x-raw,format=I420 ! tee name=t \
  t. ! queue ! videoscale method=lanczos ! video/x-raw,width=$W,height=$H ! comp.sink_0 \
  t. ! queue ! lerfscale method="$METHOD" ! video/x-raw,width=$W,height=$H ! comp.sink_1 \
  compositor name=comp sink_1::xpos=$W ! videoconvert ! video/x-raw,format=RGB \
  ! pngenc snapshot=true ! filesink location="$OUT/demo-side-by-side.png"
echo "demo: wrote $OUT/demo-side-by-side.png (left: videoscale lanczos, right: lerfscale $METHOD)"
