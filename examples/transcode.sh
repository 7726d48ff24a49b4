#!/usr/bin/env bash
# Example 3: transcode: decode the clip, upscale with lerfscale to 1440 lines high (the
# width, 1920, follows the display aspect ratio), encode H.264 (x264enc from
# gstreamer1.0-plugins-ugly, else gst-libav's MPEG-4 part 2) and mux into MP4.
#   examples/transcode.sh [seconds]   (default 3)
set -euo pipefail
source "$(dirname "$0")/common.sh"
SECONDS_OF_VIDEO=${1:-3}
METHOD=${METHOD:-$(pick_method)}
if gst-inspect-1.0 x264enc > /dev/null 2>&1; then
  ENCODER="x264enc speed-preset=faster tune=zerolatency bitrate=6000 ! h264parse"
else
  echo "transcode: x264enc not found (gstreamer1.0-plugins-ugly); using avenc_mpeg4" >&2
  ENCODER="avenc_mpeg4 bitrate=8000000"
fi
gst-launch-1.0 -q filesrc location="$CLIP" ! decodebin ! identity eos-after=$((SECONDS_OF_VIDEO * 10)) \
  ! videoconvert ! video/x-raw,format=I420 \
  ! lerfscale method="$METHOD" ! video/x-raw,height=1440,pixel-aspect-ratio=1/1 \
  ! $ENCODER ! mp4mux ! filesink location="$OUT/transcoded.mp4"
echo "wrote $OUT/transcoded.mp4 ($METHOD)"
