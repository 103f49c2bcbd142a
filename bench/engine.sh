#!/usr/bin/env bash
# The embedded engine against llama.cpp on the same files, same threads, same run.
#
# Writes TinyLlama-1.1B-shaped random-weight models (Q8_0, Q4_0, Q4_K, F16) with the project's
# own GGUF writer (cached under ~/.cache/promptd/bench), then measures prompt (pp) and generation
# (tg) tokens/s with `promptd bench` and, if LLAMA_BENCH points at an existing llama-bench binary,
# with llama-bench on the very same files. Runs are interleaved — one of ours, one of llama.cpp's,
# type after type, round after round — so both see the same machine noise; medians are reported
# with the load average and CPU pressure of the run. Then aggregate generation tokens/s at
# concurrency 1, 2, 4 and 8 through the batch executor.
#
# Usage: bench/engine.sh            (environment: LLAMA_BENCH, REPEATS=5, THREADS=2, TYPES, CONCURRENCY,
#                                    PROMPT=64, GEN=32, OUT=bench/results/engine-<date>.md)
# LLAMA_BENCH_ALT names a second llama-bench build measured in the same rounds (LLAMA_ALT_LABEL says
# what it is, e.g. a build without AMX on a Xeon whose native build multiplies with AMX tiles).
# Nothing of llama.cpp is built or shipped here: LLAMA_BENCH must already exist, or the comparison is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

REPEATS=${REPEATS:-5}
THREADS=${THREADS:-2}
TYPES=${TYPES:-"q8_0 q4_0 q4_k f16"}
CONCURRENCY=${CONCURRENCY:-"1 2 4 8"}
PROMPT=${PROMPT:-64}
GEN=${GEN:-32}
OUT=${OUT:-bench/results/engine-$(date -u +%Y%m%dT%H%M%SZ).md}
LLAMA_BENCH=${LLAMA_BENCH:-}
LLAMA_BENCH_ALT=${LLAMA_BENCH_ALT:-}
LLAMA_ALT_LABEL=${LLAMA_ALT_LABEL:-second llama.cpp build}

dotnet build src/Promptd.Cli -c Release -v quiet -nologo >/dev/null
PROMPTD=src/Promptd.Cli/bin/Release/net10.0/promptd
RAW=$(mktemp -d)
trap 'rm -rf "$RAW"' EXIT
mkdir -p "$(dirname "$OUT")"

if [[ -n $LLAMA_BENCH && ! -x $LLAMA_BENCH ]]; then
  echo "LLAMA_BENCH=$LLAMA_BENCH is not an executable; comparing nothing" >&2
  LLAMA_BENCH=
fi
if [[ -n $LLAMA_BENCH_ALT && ! -x $LLAMA_BENCH_ALT ]]; then
  echo "LLAMA_BENCH_ALT=$LLAMA_BENCH_ALT is not an executable; leaving it out" >&2
  LLAMA_BENCH_ALT=
fi

state() { echo "load $(cut -d' ' -f1-3 /proc/loadavg), cpu pressure $(sed -n 's/^some avg10=\([0-9.]*\).*/\1%/p' /proc/pressure/cpu 2>/dev/null || echo '?')"; }

# The models: written once by promptd's own writer (a 1.1B Q4_K takes minutes), then reused.
declare -A MODEL
for type in $TYPES; do
  MODEL[$type]=$("$PROMPTD" bench --synthetic tinyllama-1.1b --type "$type" --prompt-tokens 1 --gen-tokens 1 --repeats 1 --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["model"])')
done

# One llama-bench run (binary $1) on type $2's file, as one JSON line appended to $3.
llama_run() {
  "$1" -m "${MODEL[$2]}" -t "$THREADS" -p "$PROMPT" -n "$GEN" -r 1 -o json 2>/dev/null |
    python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))' >>"$3"
}

echo "start: $(state)" | tee "$RAW/state"
for round in $(seq 1 "$REPEATS"); do
  for type in $TYPES; do
    "$PROMPTD" bench --model "${MODEL[$type]}" --threads "$THREADS" --prompt-tokens "$PROMPT" --gen-tokens "$GEN" --repeats 1 --json \
      >>"$RAW/ours-$type.jsonl"
    [[ -n $LLAMA_BENCH ]] && llama_run "$LLAMA_BENCH" "$type" "$RAW/llama-$type.jsonl"
    [[ -n $LLAMA_BENCH_ALT ]] && llama_run "$LLAMA_BENCH_ALT" "$type" "$RAW/alt-$type.jsonl"
  done
  echo "round $round/$REPEATS: $(state)" | tee -a "$RAW/state"
done
for type in $TYPES; do
  for n in $CONCURRENCY; do
    "$PROMPTD" bench --model "${MODEL[$type]}" --threads "$THREADS" --prompt-tokens "$PROMPT" --gen-tokens "$GEN" \
      --repeats "$REPEATS" --concurrency "$n" --executor --json >>"$RAW/concurrency-$type.jsonl"
  done
done
echo "end: $(state)" | tee -a "$RAW/state"

python3 - "$RAW" "$OUT" "$TYPES" "$PROMPT" "$GEN" "$THREADS" "$REPEATS" "$CONCURRENCY" "$LLAMA_ALT_LABEL" <<'PY'
import json, os, statistics, subprocess, sys
raw, out, types, prompt, gen, threads, repeats, levels, alt_label = sys.argv[1:10]
types, levels = types.split(), levels.split()

def lines(name):
    path = os.path.join(raw, name)
    return [json.loads(l) for l in open(path)] if os.path.exists(path) else []

def fmt(x): return "–" if x is None else f"{x:.1f}"
def ratio(a, b): return "–" if a is None or b is None else f"{a / b:.2f}×"

def llama(name):
    runs = lines(name)
    if not runs: return None, None
    return (statistics.median(x["avg_ts"] for run in runs for x in run if x["n_prompt"] > 0),
            statistics.median(x["avg_ts"] for run in runs for x in run if x["n_gen"] > 0))

rows, alt_rows, mem = [], [], []
for t in types:
    ours = lines(f"ours-{t}.jsonl")
    pp = statistics.median(o["result"]["promptRuns"][0] for o in ours)
    tg = statistics.median(o["result"]["generationRuns"][0] for o in ours)
    lpp, ltg = llama(f"llama-{t}.jsonl")
    o = ours[-1]
    rows.append(f"| {o['weightType']} | {o['fileBytes'] / 2**30:.2f} GiB | {fmt(pp)} | {fmt(lpp)} | {ratio(pp, lpp)} | {fmt(tg)} | {fmt(ltg)} | {ratio(tg, ltg)} |")
    app, atg = llama(f"alt-{t}.jsonl")
    if app is not None:
        alt_rows.append(f"| {o['weightType']} | {fmt(pp)} | {fmt(app)} | {ratio(pp, app)} | {fmt(tg)} | {fmt(atg)} | {ratio(tg, atg)} |")
    peak = max(x["peakRssBytes"] for x in ours)
    kv = o["result"]["kvCacheBytes"]
    mem.append(f"| {o['weightType']} | {o['fileBytes'] / 2**20:.0f} | {kv / 2**20:.1f} | {peak / 2**20:.0f} | {peak / (o['fileBytes'] + kv):.2f} | {statistics.median(x['result']['allocatedBytesPerToken'] for x in ours):.1f} |")

conc = []
for t in types:
    runs = lines(f"concurrency-{t}.jsonl")
    if not runs: continue
    by = {r["result"]["concurrency"]: r["result"]["generationTokensPerSecond"] for r in runs}
    base = by.get(1)
    cells = " | ".join(f"{fmt(by.get(int(n)))}" for n in levels)
    conc.append(f"| {runs[0]['weightType']} | {cells} | {ratio(by.get(int(levels[-1])), base)} |")

kernels = lines(f"ours-{types[0]}.jsonl")[-1]["result"]["kernels"]
state = open(os.path.join(raw, "state")).read().strip().splitlines()
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
with open(out, "w") as f:
    f.write(f"# Embedded engine vs llama.cpp — {cpu}, {threads} threads, kernels {kernels}\n\n")
    f.write(f"pp{prompt} / tg{gen}: medians of {repeats} interleaved runs (each run: one warm-up, one timed).\n\n")
    f.write("| model | size | ours pp | llama.cpp pp | ratio | ours tg | llama.cpp tg | ratio |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
    f.write("\n".join(rows) + "\n\n")
    if alt_rows:
        f.write(f"Against {alt_label}, in the same rounds:\n\n")
        f.write("| model | ours pp | its pp | ratio | ours tg | its tg | ratio |\n|---|---:|---:|---:|---:|---:|---:|\n")
        f.write("\n".join(alt_rows) + "\n\n")
    f.write("| model | file MiB | KV MiB | peak RSS MiB | peak / (file + KV) | bytes allocated per token |\n|---|---:|---:|---:|---:|---:|\n")
    f.write("\n".join(mem) + "\n\n")
    if conc:
        f.write("Aggregate generation tokens/s through the batch executor (median of the repeats):\n\n")
        f.write("| model | " + " | ".join(f"c={n}" for n in levels) + f" | c={levels[-1]} / c=1 |\n|---|" + "---:|" * (len(levels) + 1) + "\n")
        f.write("\n".join(conc) + "\n\n")
    f.write("Machine state during the run:\n\n" + "\n".join(f"- {s}" for s in state) + "\n")
print(open(out).read())
PY
echo "written: $OUT"
