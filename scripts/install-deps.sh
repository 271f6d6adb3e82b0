#!/usr/bin/env bash
# Installs the Debian packages Darkroom builds against, when any is missing.
set -euo pipefail
# libcurl4-openssl-dev: <curl/curl.h> for DarkroomFetch (the CLI's decode --download), which loads
# libcurl at run time; the Darkroom library itself needs none of it.
# libavif-bin (avifenc, avifdec) and libimage-exiftool-perl (exiftool): the tests make colour,
# clean-aperture and metadata inputs with them and check outputs against their readings.
packages=(libpng-dev libjpeg-dev libwebp-dev libavif-dev libgif-dev liblcms2-dev zlib1g-dev pkg-config libcurl4-openssl-dev
          libavif-bin libimage-exiftool-perl)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  sudo_cmd=""
  [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
