#!/usr/bin/env bash
# End-to-end check of `--shard auto` on a real scheduler: a single-node Slurm cluster from Debian's
# packages runs a sharded `darkroom convert` as a 4-task array job, then `darkroom report merge`
# must find every input converted exactly once (and the output tree must hold one file per input).
#
# Needs root (it installs slurmctld, slurmd, slurm-client and munge with apt when missing, writes
# /etc/slurm/slurm.conf and starts the daemons); without root it prints why and exits 0 (skipped).
# CI runs it as root. Usage: scripts/slurm-e2e.sh [DARKROOM_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $(id -u) != 0 ]]; then
    echo "slurm-e2e: skipped: needs root to install and start slurmctld/slurmd/munged (run as root, as CI does)" >&2
    exit 0
fi
BIN=${1:-}
if [[ -z "$BIN" ]]; then
    swift build --product darkroom >&2
    BIN="$(swift build --show-bin-path)/darkroom"
fi
BIN=$(readlink -f "$BIN")
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    echo "slurm-e2e: installing slurmctld slurmd slurm-client munge" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi

WORK=$(mktemp -d /tmp/darkroom-slurm.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    sleep 1
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# munge: a key, its run folder, the daemon as the munge user (no systemd here).
if [[ ! -s /etc/munge/munge.key ]]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
fi
chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/lib/munge /var/log/munge; chown munge:munge /run/munge /var/lib/munge /var/log/munge
chmod 755 /run/munge
pkill -x munged 2>/dev/null || true
su -s /bin/sh munge -c "/usr/sbin/munged --force" 
sleep 1
PIDS+=("$(pgrep -x munged | head -1)")

HOST=$(hostname -s)
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=darkroom-e2e
SlurmctldHost=$HOST
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$HOST CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
pkill -x slurmctld 2>/dev/null || true; pkill -x slurmd 2>/dev/null || true
slurmctld -D -i >"$WORK/slurmctld.out" 2>&1 &
PIDS+=($!)
slurmd -D >"$WORK/slurmd.out" 2>&1 &
PIDS+=($!)
for i in $(seq 1 60); do
    if sinfo -h -o '%t' 2>/dev/null | grep -q idle; then break; fi
    if (( i == 60 )); then echo "slurm-e2e: the node never became idle" >&2; sinfo >&2 || true; tail -20 /var/log/slurm/*.log >&2 || true; exit 1; fi
    sleep 1
done
echo "slurm-e2e: node idle: $(sinfo -h -o '%N %c CPUs %t')" >&2

# Inputs: a tree of 24 images (and a hidden file and a non-image that must be skipped).
IN=$WORK/in; OUT=$WORK/out; REPORTS=$WORK/reports
mkdir -p "$IN/a/b" "$IN/c" "$OUT" "$REPORTS"
n=0
for dir in "$IN" "$IN/a" "$IN/a/b" "$IN/c"; do
    for src in testimages/hopper.jpg testimages/gray.jpg testimages/rgba.png testimages/palette-trns.png testimages/kodim23.jpg testimages/rgb16.png; do
        n=$((n + 1)); cp "$src" "$dir/img-$n.${src##*.}"
    done
done
cp testimages/gray.jpg "$IN/.hidden.jpg"; echo "not an image" > "$IN/notes.txt"

cat > "$WORK/job.sh" <<JOB
#!/bin/sh
exec "$BIN" convert "$IN" --recursive -f webp -q 80 --out-dir "$OUT" --shard auto -j 1 \
    --report "$REPORTS/shard-\${SLURM_ARRAY_TASK_ID}.jsonl"
JOB
chmod +x "$WORK/job.sh"
echo "slurm-e2e: sbatch --array=0-3 (24 inputs)" >&2
timeout 300 sbatch --wait --array=0-3 --output="$WORK/task-%a.out" --error="$WORK/task-%a.err" "$WORK/job.sh"
for i in 0 1 2 3; do echo "--- task $i:"; cat "$WORK/task-$i.err" "$WORK/task-$i.out" 2>/dev/null; done >&2
echo "slurm-e2e: darkroom report merge" >&2
"$BIN" report merge "$REPORTS"/shard-*.jsonl
files=$(find "$OUT" -type f -name '*.webp' | wc -l)
if [[ "$files" != "$n" ]]; then echo "slurm-e2e: FAILED: $files outputs for $n inputs" >&2; exit 1; fi
echo "slurm-e2e: passed: $n inputs, 4 array tasks, $files outputs, every input converted exactly once" >&2
