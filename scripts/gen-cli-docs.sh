#!/usr/bin/env bash
# Regenerates the `--help` blocks of the CLI reference pages (docs/cli/*.md) in place.
#
#   scripts/gen-cli-docs.sh [BINARY]           # default: .build/debug/darkroom (run `swift build` first)
#   scripts/gen-cli-docs.sh --check [BINARY]   # change nothing; exit 1 and name the stale pages
#
# A help block is the fenced block between two marker lines:
#
#   <!-- help:begin darkroom bench resize -->
#   ```
#   USAGE: darkroom bench resize ...
#   ```
#   <!-- help:end -->
#
# The begin marker names the command; the block becomes `COLUMNS=100 BINARY <command> --help`
# from its `USAGE:` line on (the overview above it is the page's own prose), trailing blank lines
# dropped. Everything outside the markers is left as it is. CLIReferenceTests checks the same
# thing on the built binary, so a help text changed without its page fails `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
if [[ "${1:-}" == "--check" ]]; then check=1; shift; fi
binary="${1:-.build/debug/darkroom}"
if [[ ! -x "$binary" ]]; then
    echo "gen-cli-docs: $binary is not an executable (build it with \`swift build\`, or pass the binary)" >&2
    exit 2
fi

# help ARGS...: the command's help from its USAGE line on, without trailing blank lines.
help() {
    local text
    text=$(COLUMNS=100 "$binary" "$@" --help </dev/null 2>/dev/null)  # $(…) drops trailing newlines
    if [[ "$text" != *$'\n'"USAGE: "* && "$text" != "USAGE: "* ]]; then
        echo "gen-cli-docs: \`$binary $* --help\` printed no USAGE line" >&2
        return 1
    fi
    printf '%s\n' "$text" | awk 'found || /^USAGE: / { found = 1; print }'
}

stale=0
for page in docs/cli/*.md; do
    new=$(mktemp)
    inside=0
    blocks=0
    while IFS= read -r line || [[ -n "$line" ]]; do
        if (( inside )); then
            if [[ "$line" == "<!-- help:end -->" ]]; then
                printf '%s\n' "$line" >> "$new"
                inside=0
            fi
            continue
        fi
        printf '%s\n' "$line" >> "$new"
        if [[ "$line" =~ ^'<!-- help:begin darkroom'(( [a-z][a-z-]*)*)' -->'$ ]]; then
            read -r -a args <<< "${BASH_REMATCH[1]}"
            { echo '```'; help "${args[@]}"; echo '```'; } >> "$new"
            inside=1
            blocks=$((blocks + 1))
        fi
    done < "$page"
    if (( inside )); then
        echo "gen-cli-docs: $page: a help:begin marker without its <!-- help:end -->" >&2
        rm -f "$new"
        exit 1
    fi
    if (( blocks == 0 )); then
        echo "gen-cli-docs: $page: no help block (expected a <!-- help:begin darkroom … --> line)" >&2
    fi
    if cmp -s "$new" "$page"; then
        rm -f "$new"
    elif (( check )); then
        echo "gen-cli-docs: $page is stale" >&2
        stale=1
        rm -f "$new"
    else
        cat "$new" > "$page"  # in place: the page keeps its permissions
        rm -f "$new"
        echo "gen-cli-docs: updated $page" >&2
    fi
done
exit "$stale"
