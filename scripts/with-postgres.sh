#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL cluster:
#   scripts/with-postgres.sh CMD [ARGS...]
# The cluster lives in a temp dir on a free localhost port; CMD sees
# TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:PORT/cellar_test. The cluster is stopped and
# deleted when CMD ends, however it ends, and CMD's exit status is ours.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi

pg_bindir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

BIN="${PG_BINDIR:-$(pg_bindir)}"
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  echo "with-postgres: PostgreSQL not found; installing it with apt-get" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "with-postgres: need root to install postgresql (or set PG_BINDIR)" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null; }
  BIN="$(pg_bindir)"
fi

# PostgreSQL refuses to run as root: as root, run its tools as the postgres user.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

DIR="$(mktemp -d "${TMPDIR:-/tmp}/cellar-pg.XXXXXX")"
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$DIR"; fi
chmod 700 "$DIR"

cleanup() {
  as_pg "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

as_pg "$BIN/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$DIR/initdb.log" 2>&1 \
  || { cat "$DIR/initdb.log" >&2; exit 1; }

# Another process may take the port between free_port and start: try a few.
started=""
for _ in 1 2 3 4 5; do
  PORT="$(free_port)"
  # Durability settings are off: the cluster is thrown away, and tests run faster without fsync.
  if as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 30 \
      -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null 2>&1; then
    started=1
    break
  fi
done
if [ -z "$started" ]; then
  echo "with-postgres: the server did not start:" >&2
  cat "$DIR/server.log" >&2 || true
  exit 1
fi

as_pg "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres cellar_test

export TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$PORT/cellar_test"
set +e
"$@"
status=$?
set -e
exit "$status"
