#!/bin/sh
# Restore a backup made by scripts/backup.sh into an EMPTY database and an empty upload folder.
#
#   DATABASE_URL=postgresql://jiazhandian@/jiazhandian UPLOAD_FOLDER=/var/lib/jiazhandian/uploads \
#   scripts/restore.sh /var/backups/jiazhandian/jiazhandian-20261126-023000
#
# The argument is the backup's path without extension (the .dump and .uploads.tar.gz beside it).
# Stop the service first (systemctl stop jiazhandian.target), create the database empty
# (createdb -O jiazhandian jiazhandian), restore, then `flask db upgrade` (a no-op unless the
# release is newer than the backup) and start again. Refuses a database that already has tables
# or an upload folder that already has files: nothing is overwritten.
set -eu

BASE="${1:?usage: restore.sh BACKUP_DIR/jiazhandian-STAMP}"
BASE="${BASE%.dump}"
: "${DATABASE_URL:?DATABASE_URL is not set}"
: "${UPLOAD_FOLDER:?UPLOAD_FOLDER is not set}"
PG_URL=$(printf '%s' "$DATABASE_URL" | sed -e 's#^postgresql+psycopg://#postgresql://#' -e 's#^postgres://#postgresql://#')
[ -f "$BASE.dump" ] || { echo "restore.sh: $BASE.dump not found" >&2; exit 2; }
[ -f "$BASE.uploads.tar.gz" ] || { echo "restore.sh: $BASE.uploads.tar.gz not found" >&2; exit 2; }

tables=$(psql "$PG_URL" -Atc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
if [ "$tables" != "0" ]; then
  echo "restore.sh: the target database already has $tables tables; restore into an empty one" >&2
  exit 3
fi
if [ -d "$UPLOAD_FOLDER" ] && [ -n "$(ls -A "$UPLOAD_FOLDER")" ]; then
  echo "restore.sh: $UPLOAD_FOLDER is not empty" >&2
  exit 3
fi

# All or nothing: one transaction, stop at the first error.
pg_restore --no-owner --no-privileges --single-transaction --exit-on-error --dbname="$PG_URL" "$BASE.dump"
mkdir -p "$UPLOAD_FOLDER"
tar -C "$UPLOAD_FOLDER" -xzf "$BASE.uploads.tar.gz"
echo "restored $(basename "$BASE"): database and $(find "$UPLOAD_FOLDER" -type f | wc -l) uploaded files"
