# SPDX-License-Identifier: Apache-2.0
# The calling app of tests/cli_runfile.sh: invokes 'orders' through its own sidecar until it answers,
# prints the answer, then waits to be stopped.
import json
import os
import time
import urllib.request

url = "http://127.0.0.1:%s/v1.0/invoke/orders/method/neworder" % os.environ["DAPR_HTTP_PORT"]
print("checkout env GREETING=%s MODE=%s" % (os.environ.get("GREETING"), os.environ.get("MODE")), flush=True)
for attempt in range(300):
    try:
        req = urllib.request.Request(url, data=json.dumps({"id": 42}).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            print("checkout got %s" % r.read().decode(), flush=True)
            break
    except Exception as e:
        time.sleep(0.1)
else:
    print("checkout gave up", flush=True)
while True:
    time.sleep(1)
