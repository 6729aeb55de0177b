#!/usr/bin/env bash
# Serve www/ with http-server (from node_modules; .wasm as application/wasm,
# caching off) on PORT (default 8080), or the next free port above it, and
# print the address to open. `make serve` builds first, then runs this.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

HOST="${HOST:-127.0.0.1}"
want="${PORT:-8080}"
server=node_modules/.bin/http-server

[ -x "$server" ] || { echo "serve: $server missing; run 'make setup-serve'" >&2; exit 1; }
[ -f www/index.html ] || { echo "serve: www/index.html missing" >&2; exit 1; }
[ -d www/pkg ] || echo "serve: warning: www/pkg/ missing; run 'make build' first" >&2

in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

port="$want"
while in_use "$port"; do
  port=$((port + 1))
  if [ "$port" -gt $((want + 50)) ]; then
    echo "serve: no free port in $want..$((want + 50))" >&2
    exit 1
  fi
done
[ "$port" = "$want" ] || echo "serve: port $want is busy; using $port" >&2

"$server" www -a "$HOST" -p "$port" -c-1 --no-dotfiles &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT INT TERM

for _ in $(seq 1 100); do
  in_use "$port" && break
  kill -0 "$pid" 2>/dev/null || { echo "serve: http-server exited" >&2; exit 1; }
  sleep 0.1
done

case "$HOST" in
  127.0.0.1 | 0.0.0.0 | localhost) host_shown=localhost ;;
  *) host_shown="$HOST" ;;
esac
cat <<EOF

  ------------------------------------------------------------
   raftlab is being served from www/

   Open http://$host_shown:$port/

   Ctrl-C stops the server.
  ------------------------------------------------------------

EOF
wait "$pid"
