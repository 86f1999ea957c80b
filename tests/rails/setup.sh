#!/usr/bin/env bash
# Installs the Rails judges: ActiveSupport/ActiveRecord/ActionPack 6.1 from Debian bookworm
# (system-wide) and 7.2 from Debian trixie (downloaded and unpacked under $RAILS_DIR, nothing installed
# system-wide). Prints nothing on success; afterwards `tests/rails/ruby 6.1|7.2 ARGS` runs Ruby
# with that version on RUBYLIB.
set -euo pipefail
RAILS_DIR=${RAILS_DIR:-${TMPDIR:-/tmp}/tokenring-rails}
export DEBIAN_FRONTEND=noninteractive

if ! ruby -e 'require "active_record"; require "sqlite3"; require "action_dispatch"' 2>/dev/null; then
  apt-get update -q >/dev/null
  apt-get install -y -q ruby ruby-activesupport ruby-activerecord ruby-sqlite3 ruby-actionpack >/dev/null
fi

# (ok-2: the set with ActionPack, for the cookie jars.)
if [ ! -f "$RAILS_DIR/7.2/ok-2" ]; then
  rm -rf "$RAILS_DIR/7.2"
  apt_dir="$RAILS_DIR/apt"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs" "$RAILS_DIR/7.2"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
    > "$apt_dir/sources.list"
  : > "$apt_dir/status"
  apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
            -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
            -o "Dir::State::Status=$apt_dir/status")
  apt-get "${apt_opts[@]}" update -q >/dev/null
  (cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" download -q \
    ruby-activesupport ruby-activerecord ruby-activemodel ruby-concurrent ruby-connection-pool \
    ruby-i18n ruby-minitest ruby-tzinfo ruby-base64 \
    ruby-actionpack ruby-actionview ruby-rack ruby-rack-session ruby-rack-test ruby-erubi \
    ruby-builder ruby-useragent >/dev/null 2>&1)
  for deb in "$apt_dir"/debs/*.deb; do dpkg -x "$deb" "$RAILS_DIR/7.2"; done
  touch "$RAILS_DIR/7.2/ok-2"
fi
