#!/bin/sh
cd "$HOME/httplab" 2>/dev/null && [ -f server.py ] || { echo "There is no ~/httplab/server.py yet."; exit 1; }
python3 server.py 8765 >/dev/null 2>&1 &
python3 - <<'EOF'
import json, sys, time, urllib.request, urllib.error
for _ in range(50):
    try:
        urllib.request.urlopen("http://127.0.0.1:8765/health", timeout=1)
        break
    except urllib.error.HTTPError:
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("server.py did not answer on port 8765 (it should take the port as its argument).")

try:
    body = json.load(urllib.request.urlopen("http://127.0.0.1:8765/health", timeout=2))
except Exception as e:
    sys.exit(f"GET /health failed: {e}")
if body != {"status": "ok"}:
    sys.exit(f'GET /health answered {body}, not {{"status": "ok"}}')

EOF
