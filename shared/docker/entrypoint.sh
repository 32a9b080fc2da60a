#!/bin/bash
# The entrypoint of the workbook's own server images (shared/docker/build-image.sh).
#
# It does what testcontainers-modules' `Mysql` and `Mariadb` modules expect of the official
# images, and no more:
#   - honours MYSQL_ROOT_PASSWORD / MYSQL_ALLOW_EMPTY_PASSWORD / MYSQL_DATABASE /
#     MYSQL_USER / MYSQL_PASSWORD (and the MARIADB_* spellings);
#   - runs /docker-entrypoint-initdb.d/*.sql and *.sh once, on a fresh data directory;
#   - creates root@'%', so the host can log in through the published port;
#   - starts the server with --skip-name-resolve: without it every connection from the host
#     waits about 10 s for a reverse-DNS answer that never comes;
#   - logs to stderr, with the lines the modules wait for (MySQL's X Plugin stays on).
# Arguments that start with "-" are passed to the server; anything else is run instead.
set -euo pipefail

if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  exec "$@"
fi

if [ -x /usr/sbin/mariadbd ]; then
  server=/usr/sbin/mariadbd
else
  server=/usr/sbin/mysqld
fi
datadir=/var/lib/mysql
rundir=/run/mysqld
socket=$rundir/mysqld.sock
mkdir -p "$datadir" "$rundir" /var/lib/mysql-files
chown mysql:mysql "$datadir" "$rundir" /var/lib/mysql-files

common=(
  --no-defaults
  --user=mysql
  --datadir="$datadir"
  --socket="$socket"
  --pid-file="$rundir/mysqld.pid"
  --secure-file-priv=/var/lib/mysql-files
  --skip-name-resolve
)

say() { echo "workbook-entrypoint: $*" >&2; }

# SQL string literal: backslashes and quotes doubled.
sql_quote() {
  local s=${1//\\/\\\\}
  printf "'%s'" "${s//\'/\'\'}"
}

env_either() { # the MYSQL_ name, else the MARIADB_ one
  local a="MYSQL_$1" b="MARIADB_$1"
  printf '%s' "${!a:-${!b:-}}"
}

root_password=$(env_either ROOT_PASSWORD)
allow_empty=$(env_either ALLOW_EMPTY_PASSWORD)
[ -n "$allow_empty" ] || allow_empty=${MARIADB_ALLOW_EMPTY_ROOT_PASSWORD:-}
database=$(env_either DATABASE)
user=$(env_either USER)
password=$(env_either PASSWORD)

if [ ! -d "$datadir/mysql" ]; then
  if [ -z "$root_password" ] && [ -z "$allow_empty" ]; then
    say "set MYSQL_ROOT_PASSWORD, or MYSQL_ALLOW_EMPTY_PASSWORD=yes"
    exit 1
  fi
  say "initialising $datadir"
  if [ "$server" = /usr/sbin/mariadbd ]; then
    mariadb-install-db --no-defaults --user=mysql --datadir="$datadir" \
      --auth-root-authentication-method=normal --skip-test-db >/dev/null
  else
    "$server" "${common[@]}" --initialize-insecure
  fi

  # A private server on the socket only, for the set-up below.
  extra=()
  [ "$server" = /usr/sbin/mysqld ] && extra=(--mysqlx=OFF)
  "$server" "${common[@]}" --skip-networking "${extra[@]}" &
  pid=$!
  for _ in $(seq 1 120); do
    mysqladmin --no-defaults --socket="$socket" -uroot ping >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { say "the server exited during set-up"; exit 1; }
    sleep 0.5
  done
  client=(mysql --no-defaults --protocol=socket --socket="$socket" -uroot)

  {
    echo "SET @@SESSION.SQL_LOG_BIN=0;"
    if [ -n "$database" ]; then
      echo "CREATE DATABASE IF NOT EXISTS \`$database\`;"
    fi
  } | "${client[@]}"

  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sql) say "running $f"; "${client[@]}" ${database:+"$database"} <"$f" ;;
      *.sh) say "sourcing $f"; . "$f" ;;
      *) ;;
    esac
  done

  {
    echo "SET @@SESSION.SQL_LOG_BIN=0;"
    if [ -n "$root_password" ]; then
      pw=$(sql_quote "$root_password")
      echo "CREATE USER 'root'@'%' IDENTIFIED BY $pw;"
      echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $pw;"
    else
      echo "CREATE USER 'root'@'%';"
    fi
    echo "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    if [ -n "$user" ] && [ -n "$password" ]; then
      echo "CREATE USER $(sql_quote "$user")@'%' IDENTIFIED BY $(sql_quote "$password");"
      if [ -n "$database" ]; then
        echo "GRANT ALL PRIVILEGES ON \`$database\`.* TO $(sql_quote "$user")@'%';"
      fi
    fi
    echo "FLUSH PRIVILEGES;"
  } | "${client[@]}"

  kill -TERM "$pid"
  wait "$pid" || true
  say "set-up done"
fi

exec "$server" "${common[@]}" --bind-address=0.0.0.0 "$@"
