#!/usr/bin/env bash
# Starts MariaDB, PostgreSQL and Redis on their loopback ports when they are not answering (the commands
# from the machine notes), then waits until each answers. Idempotent; used by .ci/run.
set -uo pipefail

up() { # name, probe command
  for _ in $(seq 1 60); do eval "$2" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "services: $1 did not come up" >&2; return 1
}

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "services: starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "services: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
fi
if ! mysqladmin -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1; then
  echo "services: starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
fi

up Redis "redis-cli -h 127.0.0.1 -p 6379 ping"
up PostgreSQL "pg_isready -h 127.0.0.1 -p 5432 -q"
up MariaDB "mysqladmin -h 127.0.0.1 -P 3306 -u root ping"
