#!/usr/bin/env bash
# Training data for our LeRF models, reproducible on any Debian 12 machine:
# photographic desktop wallpapers from Debian packages (downloaded with apt-get download and
# unpacked with dpkg -x into tools/train/work/, no root install), downsampled by >= 2 with
# the engine's antialiased MATLAB bicubic (removes JPEG artefacts) to HR, and LR made from HR
# with the same MATLAB-compatible bicubic at every training scale (tests/train_prep, built
# from tools/train/prep_images.cpp).
#
#   tools/train/prepare_data.sh [BUILD_DIR]    (default build-train)
#
# Needs the Debian 12 apt sources (apt-get update done once); no root install.
# Output: tools/train/work/data/<image>/{hr.npy, lr_<sh>x<sw>.npy}. No benchmark image
# (Set5, Set14, ...) is used; the list below is explicit.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${1:-build-train}"
WORK="$ROOT/tools/train/work"
PREP="$ROOT/$BUILD/tests/train_prep"
SCALES="${LERF_TRAIN_SCALES:-1.5,2,2.5,3,3.5,4,2x3,3x2,2x4,4x2,3x4,4x3}"

[ -x "$PREP" ] || { echo "build $PREP first: ninja -C $BUILD tests/train_prep" >&2; exit 1; }

PACKAGES=(lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 mate-backgrounds plasma-workspace-wallpapers)
mkdir -p "$WORK/debs" "$WORK/pkg" "$WORK/data"
for p in "${PACKAGES[@]}"; do
  if [ ! -d "$WORK/pkg/$p" ]; then
    (cd "$WORK/debs" && ls ${p}_*.deb >/dev/null 2>&1 || apt-get download "$p")
    mkdir -p "$WORK/pkg/$p"
    dpkg -x "$WORK"/debs/${p}_*.deb "$WORK/pkg/$p"
  fi
done

# Photographs only (no vector art, no renders); versions as in Debian 12 (bookworm).
L16="$WORK/pkg/lomiri-wallpapers-16.04/usr/share/backgrounds"
L20="$WORK/pkg/lomiri-wallpapers-20.04/usr/share/backgrounds"
MATE="$WORK/pkg/mate-backgrounds/usr/share/backgrounds/mate/nature"
KDE="$WORK/pkg/plasma-workspace-wallpapers/usr/share/wallpapers"
IMAGES=(
  "$L16"/*.jpg
  "$L20/Kleiber_by_Lukas_Baubkus.jpg" "$L20/Infinite-Sea_by_Aury88.jpg"
  "$MATE"/*.jpg
)
for k in Autumn BytheWater ColdRipple ColorfulCups DarkestHour EveningGlow FallenLeaf Kite OneStandsOut Path summer_1am; do
  f="$KDE/$k/contents/images/2560x1600.jpg"
  # name the output after the wallpaper, not its size
  mkdir -p "$WORK/kde"; ln -sf "$f" "$WORK/kde/$k.jpg"; IMAGES+=("$WORK/kde/$k.jpg")
done

echo "prepare_data: ${#IMAGES[@]} photographs, scales $SCALES"
"$PREP" "$WORK/data" 0 "$SCALES" "${IMAGES[@]}"
echo "prepare_data: done -> $WORK/data"
