#!/usr/bin/env bash
# HTTP load harness for weft. Starts a release build on a seeded data directory, logs in as
# random seeded users, and runs wrk (Debian package `wrk`) against each scenario.
#
#   cargo build --release
#   target/release/weft bench seed --data /tmp/bench1m        # 10k users, 1M posts
#   bench/http.sh /tmp/bench1m [duration=10s] [connections=64]
#   SCENARIOS="home post" bench/http.sh ...   # only these, with memory after each
#   SCENARIOS="search search_user fresh" bench/http.sh /tmp/bench1m 10s 4   # search latency
#
# `fresh` is not a load: it posts a new word as a seeded user and polls the search page until
# the post is found, 20 times, and reports the median and worst time from post to searchable.
#
# The load generator runs on the same machine and shares its cores with the server.
# Benchmarks write to the data directory (posts, likes): seed a fresh copy for clean runs.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:?usage: bench/http.sh DATA_DIR [duration] [connections]}
DUR=${2:-10s}
CONNS=${3:-64}
USERS=${USERS:-200}
BIN=${BIN:-target/release/weft}
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT

now_ms() { date +%s%3N; }
mem() { awk '/^(VmHWM|RssAnon|RssFile)/ {printf "%s %d MB  ", $1, $2/1024}' /proc/$PID/status; echo; }

T0=$(now_ms)
WEFT_LOG=warn WEFT_RATE_LIMITS__POSTS_PER_ACCOUNT=100000000 WEFT_RATE_LIMITS__LOGIN_PER_IP=100000 \
  "$BIN" serve --data "$DATA" --bind "127.0.0.1:$PORT" &
PID=$!
until curl -fs -o /dev/null "$BASE/public"; do sleep 0.005; done
T1=$(now_ms)
echo "machine: $(nproc) cores; load generator shares them"
echo "cold start to first 200 of /public: $((T1 - T0)) ms"
echo -n "memory after start and one request: "; mem
echo "data: $(du -sh "$DATA" | cut -f1) in $DATA (SQLite $(du -shc "$DATA"/weft.sqlite3* | tail -1 | cut -f1), search index $(du -sh "$DATA/search" 2>/dev/null | cut -f1))"
echo "binary: $(stat -c %s "$BIN" | awk '{printf "%.1f MB", $1/1048576}') ($BIN)"

# Log in USERS random seeded accounts; keep their session cookie and CSRF token.
python3 - "$DATA" "$USERS" "$WORK/fixtures.lua" <<'PY'
import random, sqlite3, sys
data, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
db = sqlite3.connect(f"file:{data}/weft.sqlite3?mode=ro", uri=True)
users = [r[0] for r in db.execute("SELECT username FROM accounts WHERE status = 0")]
random.seed(1)
chosen = random.sample(users, min(n, len(users)))
posts = db.execute("""SELECT a.username, p.id FROM posts p JOIN accounts a ON a.id = p.author_id
    WHERE p.visibility = 0 AND p.repost_of_id IS NULL AND p.deleted_at IS NULL
    ORDER BY random() LIMIT 2000""").fetchall()
import re, urllib.parse
bodies = [r[0] for r in db.execute(
    "SELECT body FROM posts WHERE visibility = 0 AND body != '' ORDER BY random() LIMIT 3000")]
queries = []
for b in bodies:
    words = [w for w in re.findall(r"[^\W_]+", b) if len(w) > 2]
    if not words:
        continue
    k = random.randint(1, min(3, len(words)))
    start = random.randint(0, len(words) - k)
    queries.append(urllib.parse.quote_plus(" ".join(words[start:start + k])))
    if len(queries) >= 1000:
        break
with open(out, "w") as f:
    f.write("queries = {%s}\n" % ",".join('"%s"' % q for q in queries))
    f.write("users = {%s}\n" % ",".join('"%s"' % u for u in random.sample(users, min(2000, len(users)))))
    f.write("posts = {%s}\n" % ",".join('"/@%s/%d"' % p for p in posts))
with open(out + ".users", "w") as f:
    f.write("\n".join(chosen))
heavy = [r[0] for r in db.execute(
    "SELECT username FROM accounts ORDER BY following_count DESC LIMIT 10")]
with open(out + ".heavy", "w") as f:
    f.write("\n".join(heavy))
print("heaviest followers follow %d accounts" % db.execute(
    "SELECT max(following_count) FROM accounts").fetchone()[0])
PY
login_all() { # lua_table_name users_file
echo "$1 = {" >> "$WORK/fixtures.lua"
while read -r u; do
  jar="$WORK/jar"; rm -f "$jar"
  csrf=$(curl -s -c "$jar" "$BASE/login" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
  curl -s -b "$jar" -c "$jar" -o /dev/null --data-urlencode "username=$u" \
    --data-urlencode "password=weft-bench-password" --data-urlencode "csrf=$csrf" "$BASE/login"
  session=$(awk '$6 == "weft_session" {print $7}' "$jar")
  # A browser sends its CSRF cookie too (set on its first visit); without it the server
  # would make a fresh anonymous token and cookie on every request.
  anon=$(awk '$6 == "weft_csrf" {print $7}' "$jar")
  token=$(curl -s -b "$jar" "$BASE/settings" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
  [ -n "$session" ] && echo "{\"weft_session=$session; weft_csrf=$anon\", \"$token\"}," >> "$WORK/fixtures.lua"
done < "$2"
echo "}" >> "$WORK/fixtures.lua"
}
login_all sessions "$WORK/fixtures.lua.users"
login_all heavy_sessions "$WORK/fixtures.lua.heavy"
echo "logged in: $(grep -c weft_session "$WORK/fixtures.lua") users"
# One home page view each: an account's bounded home feed is built in the background on its
# first view (as after a login), so the runs below measure feeds in their steady state.
grep -o 'weft_session=[^"]*' "$WORK/fixtures.lua" | while read -r c; do
  curl -s -o /dev/null -b "$c" "$BASE/"
done
python3 - "$DATA" "$(grep -c weft_session "$WORK/fixtures.lua")" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(f"file:{sys.argv[1]}/weft.sqlite3?mode=ro", uri=True)
for _ in range(600):
    n = db.execute("SELECT count(*) FROM home_feeds").fetchone()[0]
    if n >= int(sys.argv[2]): break
    time.sleep(0.1)
print(f"home feeds built: {n}")
PY

TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' /proc/$PID/stat; }
run() { # scenario connections delay_ms
  local before after line reqs
  before=$(cpu_ticks)
  line=$(WEFT_SCENARIO=$1 WEFT_FIXTURES="$WORK/fixtures.lua" WEFT_DELAY_MS=${3:-0} \
    wrk -t"$(( $2 < 2 ? $2 : 2 ))" -c"$2" -d"$DUR" -s bench/wrk.lua "$BASE" | grep '^RESULT' | sed "s/^RESULT /conns=$2 /")
  after=$(cpu_ticks)
  reqs=$(echo "$line" | sed 's/.*requests=\([0-9]*\).*/\1/')
  # The server's own CPU time per request (user + system), whatever wrk took of the cores.
  echo "$line server_cpu_us_per_req=$(( (after - before) * 1000000 / TCK / (reqs > 0 ? reqs : 1) ))"
}
fresh() { # time from an acknowledged post to finding it in search, 20 times
  local c t0 t1 i n word times=()
  # grep -m1, not `| head -1`: under pipefail, head closing the pipe early would fail the script.
  c=$(grep -m1 -o 'weft_session=[^"]*' "$WORK/fixtures.lua")
  token=$(grep -m1 -o 'weft_session=[^"]*", "[^"]*"' "$WORK/fixtures.lua" | sed 's/.*", "//; s/"$//')
  for i in $(seq 1 20); do
    word="fresh$(date +%s%N)"
    t0=$(date +%s%N)
    curl -s -o /dev/null -b "$c" -H "X-CSRF-Token: $token" --data "body=$word&visibility=public" "$BASE/posts"
    n=0
    until curl -s -b "$c" "$BASE/search?q=$word" | grep -q 'article class="post'; do
      n=$((n + 1)); [ $n -gt 2000 ] && { echo "fresh: $word never became searchable"; return 1; }
    done
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "RESULT scenario=fresh runs=%d post_to_searchable_median_ms=%d max_ms=%d\n", NR, a[int((NR+1)/2)], a[NR]}'
}
for s in ${SCENARIOS:-home home2k public profile thread like post}; do
  if [ "$s" = fresh ]; then fresh; continue; fi
  run "$s" "$CONNS"
  [ -n "${SCENARIOS:-}" ] && { echo -n "memory after $s: "; mem; }
done
[ -n "${SCENARIOS:-}" ] && [ -d "$DATA/search" ] && echo "search index: $(du -sh "$DATA/search" | cut -f1)"
[ -n "${SCENARIOS:-}" ] && exit 0
LINE=$(run mixed "$CONNS")
echo "$LINE"
MAX=$(echo "$LINE" | sed 's/.*rps=\([0-9]*\).*/\1/')
# Half the maximum rate: each connection waits conns/(rate/2) between requests.
DELAY=$(( CONNS * 2000 / (MAX > 0 ? MAX : 1) ))
echo "mixed at about half the maximum rate (delay ${DELAY} ms per connection):"
run mixed "$CONNS" "$DELAY"
echo -n "memory after the runs: "; mem
echo "database after the runs: $(du -sh "$DATA" | cut -f1)"
