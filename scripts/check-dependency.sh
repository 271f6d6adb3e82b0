#!/usr/bin/env bash
# Darkroom as a versioned SwiftPM dependency, the way a Swift gateway adds it:
#   .package(url: "<git url>", from: "0.99.0") and .product(name: "Darkroom", package: "Darkroom")
#
#   scripts/check-dependency.sh [IMAGE GEOMETRY EXPECTED_SIZE]   # default: testimages/kodim23.jpg 800x 800x533
#
# 1. The committed HEAD of this checkout is pushed into a temporary bare repository and tagged
#    $DARKROOM_CHECK_VERSION (default 0.99.0). Uncommitted changes are not part of the check.
# 2. A client package in a temporary folder depends on it by file:// URL and `from:` that version;
#    its executable (scripts/dependency-client/Client.swift, a debug build) converts IMAGE to WebP
#    in 100 concurrent tasks through the public API and checks every result (format, RIFF/WEBP
#    magic, the size in the result and in the WebP header, all 100 byte-identical).
# 3. The client's resolved package set (Package.resolved, .build/checkouts) is printed, Darkroom must
#    be pinned at that version and commit, and nothing but darkroom and swift-argument-parser may be
#    resolved: none of the HTTP sidecar's tree (Hummingbird, SwiftNIO, swift-metrics, swift-prometheus,
#    swift-service-lifecycle, ...; the sidecar is the separate package Server/), and not the
#    swift-docc-plugin that the root package declares for its docs (no product uses it, and SwiftPM
#    6.3 does not resolve it for a client). The CLI's argument parser is fetched, not built.
#
# Where packages come from: SwiftPM clones https://github.com/... URLs with git, so the client
# resolves exactly as the root package does: git's url.<base>.insteadOf rules (on these machines
# https://github.com/ → /opt/swift-packages/, in the global git config) and ~/.swiftpm mirrors apply
# unchanged. Before resolving, each URL the root Package.swift names is shown with the place git will
# really fetch it from (`git ls-remote --get-url`, no network), and the check stops if any would be
# fetched over the network (ALLOW_NETWORK=1 allows it, e.g. on a laptop without such rules).
# The client gets its own SwiftPM cache and security folders inside the temporary folder, so the
# throwaway file:// URL leaves nothing in ~/.cache/org.swift.swiftpm or ~/.swiftpm/security.
# Everything is removed on exit (TMPDIR points into the folder, so SwiftPM's lock files are too);
# KEEP_CHECK_DIR=1 keeps the folder for a look.
set -euo pipefail
IMAGE=$(realpath "${1:-$(dirname "$0")/../testimages/kodim23.jpg}")
GEOMETRY=${2:-800x}
EXPECTED=${3:-800x533}
VERSION=${DARKROOM_CHECK_VERSION:-0.99.0}
cd "$(dirname "$0")/.."
# The whole package set a client of the library may resolve: Darkroom and the CLI's argument parser.
# Anything else, above all the HTTP sidecar's Hummingbird/NIO tree, fails the check: move it to a
# nested package (as Server/), or add it here if the library itself needs it.
ALLOWED=${DARKROOM_CHECK_ALLOWED:-darkroom swift-argument-parser}
SIDECAR='^(hummingbird.*|swift-nio.*|swift-metrics|swift-prometheus|swift-service-lifecycle|swift-http-types|async-http-client)$'

export GIT_TERMINAL_PROMPT=0  # a URL that needs credentials fails at once instead of waiting
scripts/install-deps.sh

work=$(mktemp -d /tmp/darkroom-depcheck.XXXXXX)
cleanup() {
    if [[ ${KEEP_CHECK_DIR:-0} == 1 ]]; then echo "check-dependency: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# SwiftPM's lock files and the compilers' temporaries go into the work folder too.
mkdir "$work/tmp"
export TMPDIR=$work/tmp
t0=$SECONDS
step() { echo "== check-dependency [$((SECONDS - t0)) s] $*" >&2; }

# Where git fetches each package the root manifest names.
step "package sources (git's insteadOf rules and ~/.swiftpm mirrors apply as for the root package)"
network=()
while IFS= read -r url; do
    real=$(git ls-remote --get-url "$url")
    printf '   %-60s <- %s\n' "$url" "$real" >&2
    case $real in
        /*|file://*) ;;
        *) network+=("$url") ;;
    esac
done < <(grep -oE 'url: *"[^"]+"' Package.swift | sed -E 's/url: *"([^"]+)"/\1/')
for mirrors in "$HOME/.swiftpm/configuration/mirrors.json" .swiftpm/configuration/mirrors.json; do
    [[ -s $mirrors ]] && echo "   mirrors: $mirrors" >&2
done
if ((${#network[@]})) && [[ ${ALLOW_NETWORK:-0} != 1 ]]; then
    echo "check-dependency: FAIL these would be fetched over the network (no insteadOf rule or mirror): ${network[*]}" >&2
    echo "  (this machine serves packages from a local copy; ALLOW_NETWORK=1 to allow the network)" >&2
    exit 1
fi

# 1. The committed HEAD as a tagged bare repository.
rev=$(git rev-parse HEAD)
if [[ -n $(git status --porcelain --untracked-files=no) ]]; then
    echo "check-dependency: note: uncommitted changes are not checked (only HEAD $rev)" >&2
fi
step "bare repository of HEAD ${rev:0:12}, tagged $VERSION"
git init -q --bare --initial-branch=main "$work/Darkroom.git"
if [[ $(git rev-parse --is-shallow-repository) == true ]]; then
    # A shallow clone cannot be pushed from: one commit with HEAD's tree stands in for it.
    mkdir "$work/snapshot"
    git archive HEAD | tar -x -C "$work/snapshot"
    git -C "$work/snapshot" init -q --initial-branch=main
    git -C "$work/snapshot" add -A -f
    git -C "$work/snapshot" -c user.name=check-dependency -c user.email=check-dependency@invalid \
        commit -q -m "snapshot of $rev (shallow clone)"
    rev=$(git -C "$work/snapshot" rev-parse HEAD)
    git -C "$work/snapshot" push -q --no-verify "$work/Darkroom.git" "$rev:refs/heads/main"
else
    git push -q --no-verify "$work/Darkroom.git" "$rev:refs/heads/main"
fi
git -C "$work/Darkroom.git" tag "$VERSION" "$rev"

# 2. The client package.
client=$work/client
mkdir -p "$client/Sources/darkroom-client"
cp scripts/dependency-client/Client.swift "$client/Sources/darkroom-client/Client.swift"
cat >"$client/Package.swift" <<EOF
// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "DarkroomClient",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "file://$work/Darkroom.git", from: "$VERSION"),
    ],
    targets: [
        .executableTarget(
            name: "darkroom-client",
            dependencies: [.product(name: "Darkroom", package: "Darkroom")]
        ),
    ]
)
EOF
spm=(--package-path "$client" --cache-path "$work/swiftpm-cache" --security-path "$work/swiftpm-security"
     --manifest-cache local)

step "swift package resolve (client)"
swift package "${spm[@]}" resolve >&2

# 3. What the client resolved and fetched.
step "resolved package set"
python3 - "$client/Package.resolved" >"$work/pins.tsv" <<'EOF'
import json, sys
for p in sorted(json.load(open(sys.argv[1])).get("pins", []), key=lambda p: p["identity"]):
    state = p.get("state", {})
    print("\t".join([p["identity"], state.get("version") or "-", state.get("revision", "-"), p["location"]]))
EOF
while IFS=$'\t' read -r identity version revision location; do
    printf '   pin %-28s %-10s %s (fetched from %s)\n' "$identity" "$version" "${revision:0:12}" \
        "$(git ls-remote --get-url "$location")" >&2
done <"$work/pins.tsv"
checkouts=()
if [[ -d $client/.build/checkouts ]]; then
    mapfile -t checkouts < <(ls "$client/.build/checkouts")
fi
echo "   checkouts (.build/checkouts): ${checkouts[*]:-(none)}" >&2
fail=0
pinned=$(awk -F'\t' '$1 == "darkroom" { print $2 " " $3 }' "$work/pins.tsv")
if [[ $pinned != "$VERSION $rev" ]]; then
    echo "check-dependency: FAIL darkroom is pinned at '${pinned:-nothing}', expected '$VERSION $rev'" >&2
    fail=1
fi
resolved=$( { cut -f1 "$work/pins.tsv"; printf '%s\n' "${checkouts[@]}"; } | tr 'A-Z' 'a-z' | grep -v '^$' | sort -u)
extra=$(grep -vxF -f <(tr ' ' '\n' <<<"$ALLOWED") <<<"$resolved" || true)
if [[ -n $extra ]]; then
    echo "check-dependency: FAIL a client of the Darkroom library resolves packages beyond '$ALLOWED':" $extra >&2
    sidecar=$(grep -E "$SIDECAR" <<<"$extra" || true)
    [[ -z $sidecar ]] || echo "  of them the HTTP sidecar's tree:" $sidecar >&2
    fail=1
fi
((fail == 0)) || exit 1

step "swift build (client, debug)"
swift build "${spm[@]}" -c debug >&2

step "darkroom-client $(basename "$IMAGE") $GEOMETRY (expects $EXPECTED), 100 concurrent tasks"
"$client/.build/debug/darkroom-client" "$IMAGE" "$GEOMETRY" "$EXPECTED"
step "ok: Darkroom $VERSION (${rev:0:12}) as a dependency; resolved: $(cut -f1 "$work/pins.tsv" | tr '\n' ' ')"
