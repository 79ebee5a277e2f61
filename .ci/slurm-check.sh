#!/usr/bin/env bash
# CI check: the scale-out recipes run for real, on schedulers that requeue and kill tasks.
#   1. apt-installs Debian's slurm-wlm, munge and parallel if missing;
#   2. starts a one-node Slurm cluster on localhost (munged, slurmctld, slurmd; a minimal slurm.conf in
#      $STATE, 8 CPU slots, private ports), after stopping anything a previous run of this script left;
#   3. builds one shared BM25 index (`rare-mine index bm25`), mines a reference single run;
#   4. submits the job-array script of docs/SCALE-OUT.md verbatim (8 tasks, --requeue; its command line is
#      the README's), requeues one running task on purpose (`scontrol requeue`), waits, merges with the
#      documented `sbatch --dependency=afterok` line and compares byte for byte with the single run;
#   5. runs the README's GNU parallel line verbatim, SIGKILLs one shard task mid-way, runs the same line
#      again (parallel --resume-failed reruns that task, which resumes its partial), merges, compares;
#   6. stops the daemons it started and removes its files (also on failure).
# Run as root from anywhere: .ci/slurm-check.sh. Idempotent. Env: RECORDS_COPIES (600: copies of the 40-record
# fixture in the input), KEEP=1 (keep $WORK for debugging).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
STATE=/var/tmp/rare-mine-slurm-ci
COPIES=${RECORDS_COPIES:-600}
START=$(date +%s)
FAILED=0
pass() { printf '%s PASS: %s\n' "$(date +%T)" "$*"; }
fail() { FAILED=$((FAILED + 1)); printf '%s FAIL: %s\n' "$(date +%T)" "$*"; }

# --- 1. packages -------------------------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null || ! command -v parallel >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq slurm-wlm munge parallel >/dev/null
fi
[ -d dist/src ] || npm run build >/dev/null

# --- 2. a one-node cluster -----------------------------------------------------------------------------------
stop_daemons() {
  for name in slurmd slurmctld; do
    if [ -f "$STATE/$name.pid" ]; then
      pid=$(cat "$STATE/$name.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$STATE/$name.pid"
    fi
  done
  if [ -f "$STATE/munged.started" ]; then
    kill "$(cat /run/munge/munged.pid 2>/dev/null)" 2>/dev/null || true
    rm -f "$STATE/munged.started"
  fi
}
WORK=
cleanup() {
  set +e
  [ -f "$STATE/slurm.conf" ] && SLURM_CONF=$STATE/slurm.conf scancel --user=root >/dev/null 2>&1
  stop_daemons
  if [ -z "${KEEP:-}" ]; then rm -rf "$STATE"; [ -n "$WORK" ] && rm -rf "$WORK"; fi
}
stop_daemons # whatever an interrupted earlier run left
rm -rf "$STATE"
mkdir -p "$STATE/state" "$STATE/spool"
trap cleanup EXIT

if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  mkdir -p /run/munge /var/log/munge /var/lib/munge /etc/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  [ -s /etc/munge/munge.key ] || { dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
  runuser -u munge -- /usr/sbin/munged
  touch "$STATE/munged.started"
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
fi

NODE=$(hostname -s)
export SLURM_CONF=$STATE/slurm.conf
cat >"$SLURM_CONF" <<EOF
ClusterName=rare-mine-ci
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=2
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
StateSaveLocation=$STATE/state
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=8 RealMemory=4000 State=UNKNOWN
PartitionName=ci Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N "$NODE"
for _ in $(seq 100); do sinfo -h -o %t 2>/dev/null | grep -q idle && break; sleep 0.2; done
if sinfo -h -o %t | grep -q idle; then pass "one-node Slurm cluster up ($(sinfo -h -o '%P %D %t'))"; else fail 'Slurm node not idle'; tail -n 20 "$STATE"/*.log; exit 1; fi

# --- 3. data, the shared index, the reference run -------------------------------------------------------------
WORK=$(mktemp -d /tmp/rare-mine-slurm-work-XXXXXX)
mkdir -p "$WORK/bin"
ln -s "$REPO/bin/rare-mine.js" "$WORK/bin/rare-mine"
export PATH=$WORK/bin:$PATH RARE_MINE_NO_PROGRESS=1
node -e '
  const fs = require("fs");
  const lines = fs.readFileSync(process.argv[1], "utf8").trimEnd().split("\n").map((l) => JSON.parse(l));
  const corpus = new Map();
  for (const r of lines) for (const t of [].concat(r.text)) if (!corpus.has(t)) corpus.set(t, corpus.size);
  fs.writeFileSync(process.argv[2] + "/corpus.jsonl", [...corpus].map(([text, id]) => JSON.stringify({ _id: "d" + id, text })).join("\n") + "\n");
  const out = [];
  for (let c = 0; c < Number(process.argv[3]); c++) lines.forEach((r, i) => out.push(JSON.stringify({ id: c + "-" + i, question: r.question + " (" + c + ")", text: r.text })));
  fs.writeFileSync(process.argv[2] + "/in.jsonl", out.join("\n") + "\n");
' fixtures/dataflow-scifact-40.jsonl "$WORK" "$COPIES"
cd "$WORK"
rare-mine index bm25 --corpus corpus.jsonl --index-dir idx --log-level warn
rare-mine bm25 --index-dir idx in.jsonl -o single.jsonl --log-level warn
pass "reference single run: $(wc -l <single.jsonl) records"

# --- 4. the Slurm job array ----------------------------------------------------------------------------------
awk '/^## Slurm job array/{f=1} f&&/^```sh/{s=1;next} s&&/^```/{exit} s' "$REPO/docs/SCALE-OUT.md" >mine.sbatch
readme_line=$(grep -E '^rare-mine bm25 .*SLURM_ARRAY_TASK_ID' "$REPO/README.md")
if grep -qF -- "$readme_line" mine.sbatch; then pass 'the README job-array line is the one docs/SCALE-OUT.md submits'; else fail "README line not in docs/SCALE-OUT.md's script: $readme_line"; fi
merge_line=$(grep -E '^sbatch --dependency=afterok' "$REPO/docs/SCALE-OUT.md")
mkdir -p out
SLURM_START=$(date +%s)
jobid=$(sbatch --parsable mine.sbatch)
echo "submitted job array $jobid: $(grep -c '^#SBATCH' mine.sbatch) #SBATCH lines"
victim=3
requeued=
for _ in $(seq 1200); do
  if [ -f "out/part-$victim.jsonl.partial.journal" ] && [ "$(wc -l <"out/part-$victim.jsonl.partial.journal")" -ge 3 ]; then
    scontrol requeue "${jobid}_$victim" && requeued=1
    break
  fi
  [ -f "out/part-$victim.jsonl" ] && break
  sleep 0.02
done
if [ -n "$requeued" ]; then
  pass "requeued task $victim while it was running ($(($(wc -l <"out/part-$victim.jsonl.partial.journal") - 2)) checkpoints written)"
  # A requeued job waits ~2 minutes before it may start again; let it start sooner. Not in the second of the
  # requeue: slurmd revokes the killed job's credential with a timestamp in whole seconds, and a relaunch within
  # that second is refused ("Job credential revoked") and ends the task FAILED, never requeued again.
  for _ in $(seq 100); do [ "$(squeue -h -o %t -j "${jobid}_$victim" 2>/dev/null)" = PD ] && break; sleep 0.2; done
  sleep 3
  for _ in $(seq 100); do scontrol update jobid="${jobid}_$victim" StartTime=now 2>/dev/null && break; sleep 0.2; done
else
  fail "task $victim finished before it could be requeued (raise RECORDS_COPIES)"
fi
merge_job=$(eval "${merge_line/sbatch /sbatch --parsable }")
for _ in $(seq 1800); do [ -z "$(squeue -h -j "$jobid,$merge_job" 2>/dev/null)" ] && break; sleep 0.2; done
SLURM_SECONDS=$(($(date +%s) - SLURM_START))
if [ -n "$(squeue -h -j "$jobid,$merge_job")" ]; then fail 'jobs still queued after 6 minutes'; squeue; fi
if [ -n "$requeued" ] && grep -q 'resuming an interrupted run' "out/slurm-${jobid}_$victim.log"; then pass "task $victim resumed its partial after the requeue"; else fail "task $victim did not resume (log: $(tail -n 3 "out/slurm-${jobid}_$victim.log" 2>/dev/null))"; fi
if grep -l 'building BM25 index\|building doc store' out/slurm-*.log >/dev/null 2>&1; then fail 'a task built the index'; else pass 'every task read the one shared index'; fi
if [ -f out.jsonl ] && cmp -s out.jsonl single.jsonl; then pass "Slurm array (8 tasks, 1 requeued) + merge equals the single run byte for byte (${SLURM_SECONDS} s)"; else fail 'Slurm merged output differs from the single run'; ls -la out; tail -n 5 slurm-*.out out/*.log 2>/dev/null; fi

# --- 5. GNU parallel -----------------------------------------------------------------------------------------
mkdir -p ~/.parallel && touch ~/.parallel/will-cite
mkdir gnu && cd gnu
ln -s ../in.jsonl in.jsonl
ln -s ../idx idx
parallel_line=$(grep -E '^parallel .*rare-mine bm25' "$REPO/README.md")
merge_readme=$(grep -E '^rare-mine merge ' "$REPO/README.md" | sed 's/ *#.*//')
PARALLEL_START=$(date +%s)
(eval "$parallel_line") >parallel-1.log 2>&1 &
killed=
for _ in $(seq 1200); do
  if [ -f part-2.jsonl.partial.journal ] && [ "$(wc -l <part-2.jsonl.partial.journal)" -ge 3 ] && [ -f part-2.jsonl.lock ]; then
    pid=$(node -e 'console.log(JSON.parse(require("fs").readFileSync("part-2.jsonl.lock","utf8")).pid)')
    kill -9 "$pid" && killed=1
    break
  fi
  [ -f part-2.jsonl ] && break
  sleep 0.02
done
wait || true
if [ -n "$killed" ] && [ ! -f part-2.jsonl ]; then pass 'SIGKILLed shard 2 of the GNU parallel run mid-way'; else fail 'shard 2 finished before it could be killed'; fi
eval "$parallel_line" >parallel-2.log 2>&1 || { fail "second parallel run failed: $(tail -n 5 parallel-2.log)"; }
PARALLEL_SECONDS=$(($(date +%s) - PARALLEL_START))
if grep -q 'resuming an interrupted run' parallel-2.log && [ "$(grep -c 'summary' parallel-2.log)" = 1 ]; then pass 'the rerun (parallel --resume-failed) ran only shard 2, which resumed its partial'; else fail "the rerun did not resume only shard 2: $(grep -c summary parallel-2.log) summaries"; fi
eval "$merge_readme"
if cmp -s out.jsonl ../single.jsonl; then pass "GNU parallel (4 shards, 1 killed and resumed) + merge equals the single run byte for byte (${PARALLEL_SECONDS} s)"; else fail 'GNU parallel merged output differs'; fi
cd "$REPO"

echo "slurm-check: $((($(date +%s) - START))) s in all; ${FAILED} failed"
[ "$FAILED" = 0 ]
