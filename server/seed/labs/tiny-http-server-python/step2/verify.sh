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

req = urllib.request.Request("http://127.0.0.1:8765/echo", data=b'{"a": 1}', method="POST",
                             headers={"Content-Type": "application/json"})
try:
    answer = urllib.request.urlopen(req, timeout=2)
except urllib.error.HTTPError as e:
    sys.exit(f"POST /echo answered {e.code}, not 201.")
if answer.status != 201 or json.load(answer) != {"you_sent": {"a": 1}}:
    sys.exit('POST /echo should answer 201 and {"you_sent": {"a": 1}}.')

EOF
