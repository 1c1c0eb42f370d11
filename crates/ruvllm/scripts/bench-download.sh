#!/usr/bin/env bash
# Benchmarks `ruvllm pull` (download + sha256 verification into the HF cache) against
# `curl -o /dev/null` and huggingface_hub's `hf_hub_download` from the same local Hub
# (issue 8). Needs release builds of ruvllm and xtask and the workspace venv:
#   cargo build --release -p ruvllm --bin ruvllm && cargo build --release -p xtask
#   SIZE_MIB=1024 RUNS=3 crates/ruvllm/scripts/bench-download.sh
set -euo pipefail

SIZE_MIB=${SIZE_MIB:-1024}
RUNS=${RUNS:-3}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
PY=${RUVLTRA_PYTHON:-$ROOT/.venv/bin/python}
RUVLLM=$ROOT/target/release/ruvllm
XTASK=$ROOT/target/release/xtask
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ruvllm-bench.XXXXXX")
# Where the downloaded caches go (set CACHE_ROOT=/dev/shm to take the disk out of the figures).
CACHE_ROOT=${CACHE_ROOT:-$WORK}
CACHES=$(mktemp -d "$CACHE_ROOT/ruvllm-bench-caches.XXXXXX")
SERVER_PID=

cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK" "$CACHES"
}
trap cleanup EXIT

"$XTASK" hub serve --addr 127.0.0.1:0 --data "$WORK/data" --token hf_bench >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do
    grep -q "listening on" "$WORK/server.log" 2>/dev/null && break
    sleep 0.1
done
EP=$(sed -n 's/^listening on //p' "$WORK/server.log" | head -1)
[ -n "$EP" ] || { cat "$WORK/server.log"; exit 1; }

head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom >"$WORK/model.gguf"
SHA=$(sha256sum "$WORK/model.gguf" | cut -d' ' -f1)
BYTES=$(stat -c %s "$WORK/model.gguf")
export HF_HUB_DISABLE_XET=1 HF_HUB_DISABLE_TELEMETRY=1 HF_HUB_DISABLE_PROGRESS_BARS=1
unset HF_HUB_OFFLINE HUGGINGFACE_CO_STAGING || true
HF_ENDPOINT=$EP HF_HOME=$WORK/hfhome "$PY" - "$WORK/model.gguf" <<'EOF'
import sys
from huggingface_hub import HfApi
api = HfApi(token="hf_bench")
api.create_repo("local/bench", exist_ok=True)
api.upload_file(path_or_fileobj=sys.argv[1], path_in_repo="model.gguf", repo_id="local/bench")
EOF
rm -f "$WORK/model.gguf"
URL=$EP/local/bench/resolve/main/model.gguf
echo "file: $SIZE_MIB MiB, sha256 $SHA, server $EP"

now() { date +%s.%N; }
rate() { awk -v b="$BYTES" -v s="$1" 'BEGIN { printf "%.0f MiB/s (%.2f s)", b / 1048576 / s, s }'; }
peak_rss() { sed -n 's/^\s*Maximum resident set size (kbytes): //p' "$1"; }

for i in $(seq "$RUNS"); do
    t0=$(now); curl -s -L -o /dev/null "$URL"; t1=$(now)
    echo "curl -o /dev/null      run $i: $(rate "$(echo "$t1 - $t0" | bc)")"
    rm -f "$CACHES/curl.out"
    t0=$(now); curl -s -L -o "$CACHES/curl.out" "$URL"; t1=$(now)
    echo "curl -o FILE           run $i: $(rate "$(echo "$t1 - $t0" | bc)")"
    rm -f "$CACHES/curl.out"
done
for i in $(seq "$RUNS"); do
    rm -rf "$CACHES/cache"
    t0=$(now)
    /usr/bin/time -v -o "$WORK/time.txt" "$RUVLLM" pull --repo local/bench --file model.gguf \
        --sha256 "$SHA" --size "$BYTES" --endpoint "$EP" --cache-dir "$CACHES/cache" -q >/dev/null
    t1=$(now)
    echo "ruvllm pull (verified) run $i: $(rate "$(echo "$t1 - $t0" | bc)"), peak RSS $(peak_rss "$WORK/time.txt") KiB"
done
t0=$(now); "$RUVLLM" pull --repo local/bench --file model.gguf --sha256 "$SHA" --size "$BYTES" \
    --endpoint "$EP" --cache-dir "$CACHES/cache" -q >/dev/null; t1=$(now)
echo "ruvllm pull, cached (marker check): $(echo "$t1 - $t0" | bc) s"
t0=$(now); "$RUVLLM" pull --repo local/bench --file model.gguf --sha256 "$SHA" --size "$BYTES" \
    --endpoint "$EP" --cache-dir "$CACHES/cache" -q --full-verify >/dev/null; t1=$(now)
echo "ruvllm pull, cached (--full-verify re-hash): $(echo "$t1 - $t0" | bc) s"
for i in $(seq "$RUNS"); do
    rm -rf "$CACHES/pycache"
    t0=$(now)
    /usr/bin/time -v -o "$WORK/time.txt" env HF_ENDPOINT="$EP" HF_HUB_CACHE="$CACHES/pycache" HF_HOME="$WORK/hfhome" \
        "$PY" -c 'from huggingface_hub import hf_hub_download; hf_hub_download("local/bench", "model.gguf")'
    t1=$(now)
    echo "hf_hub_download        run $i: $(rate "$(echo "$t1 - $t0" | bc)"), peak RSS $(peak_rss "$WORK/time.txt") KiB"
done
