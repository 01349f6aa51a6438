#!/usr/bin/env bash
# `make demo`: start a Cove server on the embedded default (SQLite + local object store
# in .cove-demo/), run the breast-cancer walkthrough against it, print what to try next,
# and keep serving until Ctrl-C. The server is always stopped on exit or interrupt.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/.venv/bin
export COVE_HOME=${COVE_HOME:-$ROOT/.cove-demo}
PORT=${COVE_DEMO_PORT:-8443}
LOG=$COVE_HOME/server.log
SERVER_PID=

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    echo
    echo "==> Stopping the Cove server (pid $SERVER_PID)"
    kill -TERM "$SERVER_PID" 2>/dev/null || true  # it may have taken Ctrl-C itself
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_busy() {
    "$BIN/python" - "$1" <<'PY'
import socket, sys
with socket.socket() as s:
    sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
PY
}

if port_busy "$PORT"; then
    PORT=$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    echo "Port ${COVE_DEMO_PORT:-8443} is in use; the demo server uses port $PORT instead."
fi

mkdir -p "$COVE_HOME"
echo "==> Starting the Cove server on 127.0.0.1:$PORT (data dir $COVE_HOME, log $LOG)"
"$BIN/cove" server --port "$PORT" --data-dir "$COVE_HOME" >"$LOG" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
    if grep -q "Cove is serving" "$LOG" 2>/dev/null; then break; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "The Cove server exited during start-up:" >&2
        cat "$LOG" >&2
        exit 1
    fi
    sleep 0.1
done
grep -q "Cove is serving" "$LOG" || { echo "The server did not start; see $LOG" >&2; exit 1; }

eval "$("$BIN/cove" env --data-dir "$COVE_HOME")"
"$BIN/python" examples/breast_cancer.py "$@"

ENDPOINT=linear-learner-breast-cancer-prediction-endpoint
ROW=$("$BIN/python" -c 'import sys; sys.path.insert(0, "examples"); import breast_cancer; print(breast_cancer.SEED_ROW)' 2>/dev/null)
KEEP=0
if [ -t 0 ] && [ "${COVE_DEMO_KEEP_SERVING:-1}" = 1 ]; then KEEP=1; fi

echo
if [ "$KEEP" = 1 ]; then
    echo "==> What to try next, in another terminal (this server keeps running until Ctrl-C):"
else
    echo "==> What to try next: start the server again (the endpoint comes back), then:"
    echo
    echo "    COVE_HOME=$COVE_HOME .venv/bin/cove server --port $PORT &"
fi
cat <<NEXT

    export COVE_HOME=$COVE_HOME
    eval "\$(.venv/bin/cove env)"
    .venv/bin/aws sagemaker-runtime invoke-endpoint \\
        --endpoint-name $ENDPOINT --content-type text/csv \\
        --body '$ROW' \\
        out.json && cat out.json
    .venv/bin/aws sagemaker list-training-jobs
    .venv/bin/cove logs <TrainingJobName>     # a training job's log

NEXT

if [ "$KEEP" = 1 ]; then
    echo "Cove keeps serving on $AWS_ENDPOINT_URL; press Ctrl-C to stop it."
    wait "$SERVER_PID" || true
fi
