#!/usr/bin/env bash
# Start a throwaway local PostgreSQL (with pgvector when possible) for storyline's store tests
# and print its URL on stdout; the server keeps running after this script exits.
#
#   url=$(.ci/postgres.sh DATADIR)          # start (or reuse) the server of DATADIR
#   export STORYLINE_TEST_POSTGRES_URL=$url  # the contract tests empty this database per test
#   .ci/postgres.sh --stop DATADIR           # stop it (DATADIR can then be deleted)
#
# First choice: pgserver (PyPI, in the `postgres` extra; ships PostgreSQL 16 and pgvector,
# and runs the server as its own `pgserver` user when started as root). Installed with pip
# into $PYTHON's environment when missing. Fallback: Debian's PostgreSQL (apt-get install
# postgresql), which has no pgvector package: the store then keeps vectors as bytea only.
# STORYLINE_PG_SERVER=debian skips pgserver (to test the store without pgvector).
# Without this script, the tests start pgserver themselves when it is importable.
set -euo pipefail

PYTHON=${PYTHON:-$(command -v python || command -v python3)}

stop=0
if [[ ${1:-} == --stop ]]; then
    stop=1
    shift
fi
if [[ $# -ne 1 ]]; then
    echo "usage: $0 [--stop] DATADIR" >&2
    exit 2
fi
mkdir -p "$1"
datadir=$(cd "$1" && pwd)
marker="$datadir/.storyline-server"

log() { echo "postgres.sh: $*" >&2; }

pgserver_run() { # $1 = cleanup mode for this handle: None (leave running) or 'stop'
    "$PYTHON" -W ignore - "$datadir" "$1" <<'EOF'
import sys

import pgserver

mode = None if sys.argv[2] == "None" else sys.argv[2]
uri = pgserver.get_server(sys.argv[1], cleanup_mode=mode).get_uri()
if mode is None:  # a scratch server for tests: no durability needed
    import psycopg

    with psycopg.connect(uri, autocommit=True) as conn:
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(f"ALTER SYSTEM SET {setting} = off")
        conn.execute("SELECT pg_reload_conf()")
print(uri)
EOF
}

debian_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

as_postgres() {
    if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [[ $stop -eq 1 ]]; then
    case $(cat "$marker" 2>/dev/null || true) in
        pgserver) pgserver_run stop >/dev/null ;;
        debian) as_postgres "$(debian_bin)/pg_ctl" -D "$datadir/pg" -w -m fast stop >&2 ;;
        *) log "no server recorded in $datadir" ;;
    esac
    exit 0
fi

# 1. pgserver (PostgreSQL + pgvector from PyPI)
if [[ ${STORYLINE_PG_SERVER:-pgserver} != pgserver ]]; then
    log "STORYLINE_PG_SERVER=${STORYLINE_PG_SERVER}: not trying pgserver"
elif ! "$PYTHON" -c "import pgserver, psycopg, pgvector" 2>/dev/null; then
    log "installing psycopg[binary], pgvector, pgserver into $PYTHON's environment"
    "$PYTHON" -m pip install -q "psycopg[binary]>=3.1" "pgvector>=0.2" "pgserver>=0.1" >&2 || true
fi
if [[ ${STORYLINE_PG_SERVER:-pgserver} == pgserver ]] &&
    url=$(pgserver_run None 2>>"$datadir.log"); then
    echo pgserver >"$marker"
    echo "$url"
    exit 0
fi
log "no pgserver (see $datadir.log); falling back to Debian's PostgreSQL without pgvector"

# 2. Debian's PostgreSQL, run as the `postgres` user, listening on a socket in DATADIR only
if [[ -z $(debian_bin) ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
fi
bin=$(debian_bin)
if [[ $(id -u) -eq 0 ]]; then chown postgres: "$datadir"; fi
if [[ ! -f $datadir/pg/PG_VERSION ]]; then
    as_postgres "$bin/initdb" -D "$datadir/pg" -U postgres -A trust -E UTF8 >&2
fi
if ! as_postgres "$bin/pg_ctl" -D "$datadir/pg" status >/dev/null 2>&1; then
    as_postgres "$bin/pg_ctl" -D "$datadir/pg" -l "$datadir/pg/log" -w \
        -o "-h '' -k $datadir -c fsync=off" start >&2
fi
echo debian >"$marker"
echo "postgresql://postgres@/postgres?host=$datadir"
