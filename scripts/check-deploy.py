#!/usr/bin/env python3
"""What the linters cannot know: deploy/ against the server it deploys.

Run by scripts/check-deploy.sh with the venv's python (PyYAML comes with kubernetes-validate).
Each check prints one line; any failure exits 1.

- every darkroom-server option in the Deployment's args is one the server has (the help block
  of docs/server.md, which ServerHelpTests keeps equal to `darkroom-server --help`);
- the probes' paths are routes of the server (Server/Sources), liveness /healthz, readiness /readyz;
- --workers equals the CPU limit, and the memory request is at most the limit;
- terminationGracePeriodSeconds is longer than the preStop sleep plus --request-timeout;
- one port everywhere: the args, containerPort, the Service's target, EXPOSE, CMD, HEALTHCHECK;
- the runtime stage installs the Debian package of every library the module maps link
  (Sources/C*/module.modulemap), and the builder its -dev package.
"""
import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
KUBE = ROOT / "deploy" / "kubernetes"

# `link "NAME"` of a module map → (bookworm runtime package, -dev package).
LINKED = {
    "png16": ("libpng16-16", "libpng-dev"),
    "jpeg": ("libjpeg62-turbo", "libjpeg-dev"),
    "webp": ("libwebp7", "libwebp-dev"),
    "webpdemux": ("libwebpdemux2", "libwebp-dev"),
    "webpmux": ("libwebpmux3", "libwebp-dev"),
    "avif": ("libavif15", "libavif-dev"),
    "gif": ("libgif7", "libgif-dev"),
    "lcms2": ("liblcms2-2", "liblcms2-dev"),
    "z": ("zlib1g", "zlib1g-dev"),
}

failures = 0


def check(ok, what):
    global failures
    print(("ok      " if ok else "FAILED  ") + what)
    if not ok:
        failures += 1


def documents():
    docs = {}
    for path in sorted(KUBE.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs[doc["kind"]] = doc
    return docs


def cpu_cores(quantity):
    text = str(quantity)
    return int(text[:-1]) / 1000 if text.endswith("m") else float(text)


def mebibytes(quantity):
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    text = str(quantity)
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text) / (1 << 20)


def server_options():
    text = (ROOT / "docs" / "server.md").read_text()
    block = re.search(r"<!-- help:begin darkroom-server -->(.*?)<!-- help:end -->", text, re.S)
    if not block:
        sys.exit("check-deploy: no darkroom-server help block in docs/server.md")
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", block.group(1)))


def options(args):
    """The args as {option: value}; a flag without a value maps to None."""
    parsed, i = {}, 0
    while i < len(args):
        name = args[i]
        if i + 1 < len(args) and not args[i + 1].startswith("--"):
            parsed[name], i = args[i + 1], i + 2
        else:
            parsed[name], i = None, i + 1
    return parsed


def main():
    docs = documents()
    deployment, service = docs["Deployment"], docs["Service"]
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    args = options(container["args"])

    known = server_options()
    unknown = sorted(set(args) - known)
    check(not unknown, f"Deployment args are darkroom-server options ({', '.join(sorted(args))})"
          + (f": unknown {', '.join(unknown)}" if unknown else ""))

    routes = "\n".join(p.read_text() for p in (ROOT / "Server" / "Sources").rglob("*.swift"))
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        got = container[probe]["httpGet"]["path"]
        check(got == path and f'"{path[1:]}"' in routes, f"{probe} asks {got}, a route of the server")

    limits, requests = container["resources"]["limits"], container["resources"]["requests"]
    workers = int(args.get("--workers") or 0)
    check(workers == cpu_cores(limits["cpu"]), f"--workers {workers} equals the CPU limit {limits['cpu']}")
    check(mebibytes(requests["memory"]) <= mebibytes(limits["memory"]),
          f"memory request {requests['memory']} is at most the limit {limits['memory']}")

    sleep = container["lifecycle"]["preStop"]["exec"]["command"]
    sleep_seconds = float(sleep[-1]) if sleep and sleep[0].endswith("sleep") else 0
    timeout = float(args.get("--request-timeout") or 30)
    grace = pod["terminationGracePeriodSeconds"]
    check(grace > sleep_seconds + timeout,
          f"terminationGracePeriodSeconds {grace} > preStop {sleep_seconds:g} s + --request-timeout {timeout:g} s")

    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    port = int(args.get("--port") or 0)
    ports = {
        "containerPort": container["ports"][0]["containerPort"],
        "Service targetPort": next(p["containerPort"] for p in container["ports"]
                                   if p["name"] == service["spec"]["ports"][0]["targetPort"]),
        "EXPOSE": int(re.search(r"^EXPOSE (\d+)", dockerfile, re.M).group(1)),
        "CMD": int(re.search(r'^CMD \["--port", "(\d+)"\]', dockerfile, re.M).group(1)),
        "HEALTHCHECK": int(re.search(r"/dev/tcp/127\.0\.0\.1/(\d+)", dockerfile).group(1)),
        "prometheus.io/port": int(deployment["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"]),
    }
    check(all(p == port for p in ports.values()),
          f"--port {port} everywhere ({', '.join(f'{k} {v}' for k, v in ports.items())})")

    build, runtime = dockerfile.split("\nFROM debian:bookworm-slim", 1)
    linked = set()
    for modulemap in sorted(ROOT.glob("Sources/C*/module.modulemap")):
        linked.update(re.findall(r'link "([^"]+)"', modulemap.read_text()))
    unmapped = sorted(linked - set(LINKED))
    check(not unmapped, "every library the module maps link is known to this check"
          + (f": add {', '.join(unmapped)} to LINKED in scripts/check-deploy.py" if unmapped else ""))
    for lib in sorted(linked & set(LINKED)):
        run_pkg, dev_pkg = LINKED[lib]
        check(re.search(rf"\b{re.escape(run_pkg)}\b", runtime) and re.search(rf"\b{re.escape(dev_pkg)}\b", build),
              f"-l{lib}: the runtime stage installs {run_pkg}, the builder {dev_pkg}")

    print(f"check-deploy: {failures} failed" if failures else "check-deploy: deploy/ agrees with the server")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
