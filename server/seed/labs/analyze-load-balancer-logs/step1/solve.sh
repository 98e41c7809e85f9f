#!/bin/sh
mkdir -p "$HOME/lblab"
python3 - <<'EOF'
import os, random
random.seed(42)
ips = ["10.0.%d.%d" % (random.randint(0, 9), random.randint(1, 254)) for _ in range(60)]
paths = ["/", "/login", "/api/orders", "/api/items", "/static/app.js", "/health"]
statuses = [200] * 80 + [301] * 5 + [404] * 8 + [500] * 4 + [502] * 2 + [503]
with open(os.path.expanduser("~/lblab/access.log"), "w") as f:
    for i in range(20000):
        ip = random.choice(ips[:10]) if random.random() < 0.3 else random.choice(ips)
        f.write('%s - - [06/Dec/2026:10:%02d:%02d +0000] "GET %s HTTP/1.1" %d %d\n' % (
            ip, (i // 60) % 60, i % 60, random.choice(paths), random.choice(statuses),
            random.randint(200, 5000)))
EOF
