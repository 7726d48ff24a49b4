#!/usr/bin/env bash
# Live pipeline check (docs/PERFORMANCE.md): a live 25 fps 960x540 I420 source through lerfscale
# to 1920x1080 into a synchronised sink; prints the sink's rendered/dropped counts and fps.
# Usage: benchmarks/live_check.sh [BUILD_DIR] [METHOD] [MODEL_DIR] [FRAMES]
set -euo pipefail
BUILD=${1:-build-perf}
METHOD=${2:-lerf-g}
MODEL=${3:-../shared/reference/lerf-official}
FRAMES=${4:-250}
export GST_PLUGIN_PATH="$PWD/$BUILD/gst-plugin"
export GST_REGISTRY="$PWD/$BUILD/gst-registry-live.bin"
model_arg=()
case "$METHOD" in lerf-*) model_arg=(model-dir="$MODEL") ;; esac
gst-launch-1.0 -v videotestsrc is-live=true num-buffers="$FRAMES" \
  ! video/x-raw,format=I420,width=960,height=540,framerate=25/1 \
  ! lerfscale method="$METHOD" backend=cpu n-threads=2 "${model_arg[@]}" \
  ! video/x-raw,width=1920,height=1080 \
  ! fpsdisplaysink video-sink=fakesink text-overlay=false sync=true 2>&1 \
  | grep -oE "rendered: [0-9]+, dropped: [0-9]+, current: [0-9.]+, average: [0-9.]+" | tail -1
