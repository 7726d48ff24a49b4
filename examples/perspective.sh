#!/usr/bin/env bash
# Example 4: perspective correction with lerfwarp on one frame of the clip.
# The matrix maps INPUT pixels to OUTPUT pixels (as OpenCV's warpPerspective); the
# gst-plugins-bad `perspective` element takes the inverse (output -> input).
# This one tilts the picture as if seen from lower left: a keystone correction.
set -euo pipefail
source "$(dirname "$0")/common.sh"
METHOD=${METHOD:-$(pick_method)}
MATRIX=${MATRIX:-"<1.1,0.15,-60.0, 0.02,1.2,-40.0, 0.0001,0.0003,1.0>"}
gst-launch-1.0 -q filesrc location="$CLIP" ! decodebin ! videoconvert ! video/x-raw,format=RGBA \
  ! lerfwarp method="$METHOD" border=black matrix="$MATRIX" \
  ! videoconvert ! pngenc snapshot=true ! filesink location="$OUT/perspective.png"
echo "wrote $OUT/perspective.png ($METHOD, matrix $MATRIX)"
