# shellcheck shell=bash
# Shared by the benchmark scripts (sourced, not run): the news corpus as a static site served by
# a private nginx on 127.0.0.1.
#
#   corpus_site CORPUS WORK   decompresses every corpus page into WORK/site/site/ and lists
#                             their paths (relative to it) in WORK/pages.txt
#   serve_site WORK           starts nginx on a free loopback port with WORK/site as its root
#                             (pid in WORK/nginx.pid); sets $base to http://127.0.0.1:PORT

corpus_site() {
  local corpus=$1 work=$2 f rel
  mkdir -p "$work/site/site"
  find "$corpus" -name '*.html.gz' | sort | while read -r f; do
    rel=${f#"$corpus"/}
    mkdir -p "$work/site/site/$(dirname "$rel")"
    gzip -dc "$f" >"$work/site/site/${rel%.gz}"
  done
  (cd "$work/site/site" && find . -name '*.html' | sort | sed 's|^\./||') >"$work/pages.txt"
}

serve_site() {
  local work=$1 port user=""
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  [ "$(id -u)" -eq 0 ] && user="user root;"
  cat >"$work/nginx.conf" <<CONF
$user
daemon on; worker_processes 2; pid $work/nginx.pid; error_log $work/error.log warn;
events { worker_connections 4096; }
http { access_log off; gzip off; sendfile on; keepalive_requests 100000; default_type text/html;
  types { application/xml xml; }
  client_body_temp_path $work/t1; proxy_temp_path $work/t2; fastcgi_temp_path $work/t3;
  uwsgi_temp_path $work/t4; scgi_temp_path $work/t5;
  server { listen 127.0.0.1:$port; root $work/site; } }
CONF
  /usr/sbin/nginx -c "$work/nginx.conf" -p "$work"
  base=http://127.0.0.1:$port  # used by the scripts that source this file
  export base
}
