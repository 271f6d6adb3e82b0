#!/usr/bin/env bash
# libFuzzer runs for the Darkroom entry points (the targets live in the separate package Fuzz/).
#
#   scripts/fuzz.sh list               the targets, with what each covers
#   scripts/fuzz.sh TARGET SECONDS     build if needed, then fuzz TARGET for SECONDS
#   scripts/fuzz.sh all SECONDS        every target in turn, SECONDS each (CI smoke: 30)
#
# Seeds: ../shared/corpus (or $DARKROOM_CORPUS) files of the target's format from MANIFEST.tsv,
# up to 256 KB each (for convert: every 4th JPEG and PNG up to 16 KB, behind a first byte 0-31 in
# turn, since that byte picks the options); Fuzz/seeds/TARGET; testimages/fuzz-regressions/TARGET
# (every past finding); testimages/responses for images-response. The working corpus grows in
# .build-fuzz/corpus/TARGET (git-ignored); seeds are never written to. A crash, hang (-timeout=10),
# OOM (-rss_limit_mb=2048, or one allocation over -malloc_limit_mb=512) or sanitizer report exits
# non-zero and prints the reproducer's path (.build-fuzz/artifacts/TARGET/…). Replay one with
#   .build-fuzz/build/release/TARGET FILE
# Minimize one with
#   .build-fuzz/build/release/TARGET -minimize_crash=1 -runs=10000 -exact_artifact_path=OUT FILE
# Environment: FUZZ_NICE (default 10), DARKROOM_FUZZ_MAX_PIXELS (decoders, default 4000000; convert
# uses four times it).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$ROOT/.build-fuzz
BIN=$WORK/build/release
CORPUS_SRC=${DARKROOM_CORPUS:-$ROOT/../shared/corpus}
NICE=${FUZZ_NICE:-10}
# Swift's own crash backtracer reads memory ASan does not expect; let ASan/libFuzzer report.
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}

TARGETS=(decode-png decode-jpeg decode-webp decode-avif decode-gif read-header resize-geometry gateway-request images-response convert animation)

describe() {
    case $1 in
        decode-jpeg|decode-webp)
            echo "ImageDecoder.decode on ${1#decode-} bytes, maxPixels 4,000,000, odd last byte: minimumSize (shrink-on-load)" ;;
        decode-*) echo "ImageDecoder.decode on ${1#decode-} bytes, maxPixels 4,000,000" ;;
        read-header) echo "ImageDecoder.readHeader on any format" ;;
        resize-geometry) echo "ResizeGeometry(parsing:) + targetSize for input sizes 1...65535 (4 size bytes, then text)" ;;
        gateway-request) echo "GatewayRequest(json:) / GatewayRequest(form:) (+ jsonData, ProviderProfile.resolve)" ;;
        images-response) echo "ImagesResponse(parsing:) JSON and server-sent events (+ contents, jsonData)" ;;
        animation) echo "AnimationReader on any format, fail-on none, every frame read (APNG chunk walk and compositor, GIF, WebP, AVIF sequences), maxPixels 4,000,000 over all frames" ;;
        convert) echo "Converter.convert end to end, 2 threads, maxPixels 16,000,000: byte 0 picks JPEG/WebP, 4mp/37%/7x5!/50%, fast, fail-on none; the rest is the input" ;;
    esac
}

max_len() {
    case $1 in
        decode-*|convert|animation) echo 65536 ;;
        read-header) echo 8192 ;;
        resize-geometry) echo 64 ;;
        gateway-request) echo 4096 ;;
        images-response) echo 16384 ;;
    esac
}

# MANIFEST.tsv formats whose files seed the target.
seed_formats() {
    case $1 in
        decode-*) echo "${1#decode-}" ;;
        read-header) echo "png jpeg webp avif gif" ;;
        animation) echo "png webp avif gif" ;;
        *) echo "" ;;
    esac
}

build() {
    echo "== building fuzz targets (Fuzz/, -sanitize=fuzzer,address)" >&2
    nice -n "$NICE" swift build --package-path Fuzz --scratch-path "$WORK/build" -c release \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library 2>&1 \
        | grep -v "Cannot export local symbol" >&2
}

# Copies the seed files for $1 into $WORK/seeds/$1 (once per manifest change).
prepare_seeds() {
    local target=$1 dir=$WORK/seeds/$1 formats
    formats=$(seed_formats "$target")
    mkdir -p "$dir"
    if [[ -n $formats && -f $CORPUS_SRC/MANIFEST.tsv && ! -e $dir/.done ]]; then
        # Columns: 1 path, 5 format, 14 bytes.
        awk -F'\t' -v formats=" $formats " 'NR > 1 && index(formats, " " $5 " ") && $14 + 0 <= 262144 { print $1 }' \
            "$CORPUS_SRC/MANIFEST.tsv" | while IFS= read -r path; do
                [[ -f $CORPUS_SRC/$path ]] && cp "$CORPUS_SRC/$path" "$dir/$(echo "$path" | tr '/' '_')"
            done
        touch "$dir/.done"
    elif [[ $target == convert && -f $CORPUS_SRC/MANIFEST.tsv && ! -e $dir/.done ]]; then
        # Every 4th JPEG and PNG of up to 16 KB, behind a first byte that picks the options (0-31 in turn).
        local mode=0
        awk -F'\t' 'NR > 1 && ($5 == "jpeg" || $5 == "png") && $14 + 0 <= 16384 && n++ % 4 == 0 { print $1 }' \
            "$CORPUS_SRC/MANIFEST.tsv" | while IFS= read -r path; do
                if [[ -f $CORPUS_SRC/$path ]]; then
                    { printf "\\x$(printf %02x $((mode % 32)))"; cat "$CORPUS_SRC/$path"; } >"$dir/$(echo "$path" | tr '/' '_')"
                    mode=$((mode + 1))
                fi
            done
        touch "$dir/.done"
    fi
    if [[ -d Fuzz/seeds/$target ]]; then cp Fuzz/seeds/"$target"/* "$dir"/; fi
    # Every past finding is replayed first, under the same memory limits.
    if [[ -d testimages/fuzz-regressions/$target ]]; then cp testimages/fuzz-regressions/"$target"/* "$dir"/; fi
    if [[ $target == images-response ]]; then cp testimages/responses/* "$dir"/; fi
}

run_one() {
    local target=$1 seconds=$2 corpus=$WORK/corpus/$1 artifacts=$WORK/artifacts/$1 log=$WORK/logs/$1.log
    local dict=() status=0
    prepare_seeds "$target"
    mkdir -p "$corpus" "$artifacts" "$WORK/logs"
    [[ -f Fuzz/dicts/$target.dict ]] && dict=("-dict=Fuzz/dicts/$target.dict")
    echo "== $target for ${seconds}s: $(describe "$target")" >&2
    nice -n "$NICE" "$BIN/$target" "$corpus" "$WORK/seeds/$target" "${dict[@]}" \
        -max_total_time="$seconds" -max_len="$(max_len "$target")" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1 || status=$?
    # The last status line and the final stats.
    grep -E '^#[0-9]+' "$log" | tail -1 >&2 || true
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" >&2 || true
    if [[ $status -ne 0 ]]; then
        echo "!! $target failed (exit $status); log: $log" >&2
        grep -E 'ERROR: |SUMMARY: |Fatal error|Test unit written to' "$log" | head -5 >&2 || true
        local crash
        crash=$(grep -oE 'Test unit written to .*' "$log" | tail -1 | sed 's/Test unit written to //')
        [[ -n $crash ]] && echo "crash file: $crash"
        return 1
    fi
}

case ${1:-} in
    list)
        for t in "${TARGETS[@]}"; do printf '%-16s %s\n' "$t" "$(describe "$t")"; done ;;
    all)
        [[ $# -eq 2 ]] || { echo "usage: $0 all SECONDS" >&2; exit 2; }
        build
        failed=()
        for t in "${TARGETS[@]}"; do run_one "$t" "$2" || failed+=("$t"); done
        if [[ ${#failed[@]} -gt 0 ]]; then echo "fuzz failures: ${failed[*]}" >&2; exit 1; fi ;;
    *)
        [[ $# -eq 2 && " ${TARGETS[*]} " == *" $1 "* ]] || {
            echo "usage: $0 list | TARGET SECONDS | all SECONDS   (targets: ${TARGETS[*]})" >&2; exit 2; }
        build
        run_one "$1" "$2" ;;
esac
