#!/usr/bin/env bash
# Example 1: upscale a real clip 2x (768x576 -> 1536x1152) to a Motion-JPEG AVI file.
#   examples/upscale_file.sh [seconds]   (default 3; METHOD=bicubic to force a method)
set -euo pipefail
source "$(dirname "$0")/common.sh"
SECONDS_OF_VIDEO=${1:-3}
METHOD=${METHOD:-$(pick_method)}
gst-launch-1.0 -q filesrc location="$CLIP" ! decodebin ! identity eos-after=$((SECONDS_OF_VIDEO * 10)) \
  ! videoconvert ! video/x-raw,format=I420 \
  ! lerfscale method="$METHOD" ! video/x-raw,width=1536,height=1152 \
  ! jpegenc quality=95 ! avimux ! filesink location="$OUT/upscaled.avi"
echo "wrote $OUT/upscaled.avi (1536x1152, $METHOD)"
