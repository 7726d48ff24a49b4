#!/usr/bin/env bash
# Example 2: live upscaling: a live test source upscaled 320x240 -> 1280x960 in real time.
# SINK=autovideosink shows it (default when a display is available), else fakesink with
# timing statistics; BUFFERS limits the run (default 100 frames).
set -euo pipefail
source "$(dirname "$0")/common.sh"
METHOD=${METHOD:-bicubic}
if [ -z "${SINK:-}" ]; then
  if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then SINK=autovideosink; else SINK="fakesink sync=true"; fi
fi
gst-launch-1.0 videotestsrc is-live=true pattern=ball num-buffers="${BUFFERS:-100}" \
  ! video/x-raw,width=320,height=240,framerate=30/1 \
  ! lerfscale method="$METHOD" ! video/x-raw,width=1280,height=960 \
  ! queue ! videoconvert ! $SINK
