#!/bin/sh
# Back up 家站点: the PostgreSQL database (pg_dump custom format) and the upload folder (tar),
# into BACKUP_DIR as one pair of files with the same time stamp, keeping the newest BACKUP_KEEP.
#
#   DATABASE_URL=postgresql://jiazhandian@/jiazhandian UPLOAD_FOLDER=/var/lib/jiazhandian/uploads \
#   BACKUP_DIR=/var/backups/jiazhandian BACKUP_KEEP=14 scripts/backup.sh
#
# Writes  BACKUP_DIR/jiazhandian-YYYYmmdd-HHMMSS.dump          (pg_restore format)
#         BACKUP_DIR/jiazhandian-YYYYmmdd-HHMMSS.uploads.tar.gz
# and prints the stamp. Files appear only when complete (written under a temporary name).
# Restore with scripts/restore.sh. Copy BACKUP_DIR off the machine (rsync, object storage).
set -eu
umask 077

: "${DATABASE_URL:?DATABASE_URL is not set}"
: "${UPLOAD_FOLDER:?UPLOAD_FOLDER is not set}"
BACKUP_DIR="${BACKUP_DIR:-/var/backups/jiazhandian}"
BACKUP_KEEP="${BACKUP_KEEP:-14}"
# The app accepts SQLAlchemy spellings (postgresql+psycopg://); libpq wants postgresql://.
PG_URL=$(printf '%s' "$DATABASE_URL" | sed -e 's#^postgresql+psycopg://#postgresql://#' -e 's#^postgres://#postgresql://#')
case "$PG_URL" in
  postgresql://*) ;;
  *) echo "backup.sh: DATABASE_URL must point to PostgreSQL" >&2; exit 2 ;;
esac

mkdir -p "$BACKUP_DIR"
STAMP="${BACKUP_STAMP:-$(date -u +%Y%m%d-%H%M%S)}"
BASE="$BACKUP_DIR/jiazhandian-$STAMP"
trap 'rm -f "$BASE.dump.part" "$BASE.uploads.tar.gz.part"' EXIT

# One consistent snapshot of the database (pg_dump runs in a single repeatable-read transaction).
pg_dump --format=custom --compress=6 --no-owner --no-privileges --file="$BASE.dump.part" "$PG_URL"
# Uploads are only ever added (new file names), so a tar taken after the dump holds every file
# the dump refers to.
if [ -d "$UPLOAD_FOLDER" ]; then
  tar -C "$UPLOAD_FOLDER" -czf "$BASE.uploads.tar.gz.part" .
else
  tar -czf "$BASE.uploads.tar.gz.part" --files-from /dev/null
fi
mv "$BASE.dump.part" "$BASE.dump"
mv "$BASE.uploads.tar.gz.part" "$BASE.uploads.tar.gz"

# Rotation: keep the newest BACKUP_KEEP complete pairs (names sort by time).
ls -1 "$BACKUP_DIR" | grep -E '^jiazhandian-[0-9]{8}-[0-9]{6}\.dump$' | sort -r \
  | tail -n +"$((BACKUP_KEEP + 1))" | while read -r old; do
    rm -f "$BACKUP_DIR/$old" "$BACKUP_DIR/${old%.dump}.uploads.tar.gz"
  done

echo "$STAMP"
