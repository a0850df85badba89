# SPDX-License-Identifier: Apache-2.0
# Checks the manifests of pkg/kubernetes against each other and against what outrigd and
# nameresolution.kubernetes expect, then lays the ConfigMaps out as the kubelet mounts them.
# Usage: python3 kubernetes_manifests.py MANIFEST_DIR OUT_DIR
# Prints "ok - ..." / "not ok - ..." lines; writes OUT_DIR/args (outrigd's arguments, one a line,
# its paths moved into OUT_DIR), for the shell test to run
# outrigd --check with. Exit status 1 when a case failed.
import json
import os
import re
import sys

import yaml

manifests, out = sys.argv[1], sys.argv[2]
failed = 0


def check(cond, name, why=""):
    global failed
    if cond:
        print(f"ok - {name}")
    else:
        failed += 1
        print(f"not ok - {name}" + (f": {why}" if why else ""))
    return cond


# Every document of every file, by (kind, name); each file must parse and each document be an object.
docs = {}
for fname in sorted(os.listdir(manifests)):
    if not fname.endswith(".yaml"):
        continue
    path = os.path.join(manifests, fname)
    try:
        with open(path) as f:
            loaded = [d for d in yaml.safe_load_all(f) if d is not None]
    except yaml.YAMLError as e:
        check(False, f"{fname} parses as YAML", str(e))
        continue
    check(True, f"{fname} parses as YAML")
    for d in loaded:
        ok = isinstance(d, dict) and {"apiVersion", "kind", "metadata"} <= d.keys()
        if check(ok, f"{fname}: {d.get('kind') if isinstance(d, dict) else d!r} has apiVersion, kind, metadata.name"):
            docs[(d["kind"], d["metadata"]["name"])] = d


def one(kind):
    found = [d for (k, _), d in docs.items() if k == kind]
    return found


deployments, services = one("Deployment"), one("Service")
if not (check(len(deployments) == 1, "one Deployment") and check(len(services) == 1, "one Service")):
    sys.exit(1)
dep, svc = deployments[0], services[0]
check(dep["apiVersion"] == "apps/v1", "Deployment is apps/v1")
pod = dep["spec"]["template"]
labels = pod["metadata"].get("labels", {})
check(dep["spec"]["selector"]["matchLabels"].items() <= labels.items(),
      "Deployment's selector matches its pod labels")

containers = pod["spec"]["containers"]
sidecars = [c for c in containers if c.get("command", [""])[0].endswith("/outrigd")]
if not check(len(sidecars) == 1, "one container runs outrigd"):
    sys.exit(1)
side = sidecars[0]
check(len(containers) == 2, "an app container beside the sidecar")

# outrigd's arguments as --name=value (or a lone --flag).
args = {}
for a in side.get("args", []):
    m = re.fullmatch(r"--([a-z0-9-]+)(?:=(.*))?", a)
    if check(m is not None, f"argument {a!r} is --flag or --flag=value"):
        args[m.group(1)] = m.group(2) if m.group(2) is not None else True
for flag in ("app-id", "resources-path", "config", "dapr-internal-grpc-port",
             "dapr-internal-grpc-listen-address", "data-dir"):
    check(flag in args, f"outrigd gets --{flag}")
check(args.get("dapr-internal-grpc-listen-address") == "0.0.0.0",
      "the internal port listens on the pod's address (0.0.0.0)")
app_id = args.get("app-id", "")
internal_port = int(args.get("dapr-internal-grpc-port", 0))

# Volumes and mounts: each mount has a volume, each volume a ConfigMap or Secret that exists.
volumes = {v["name"]: v for v in pod["spec"].get("volumes", [])}
mounts = {m["mountPath"]: m["name"] for m in side.get("volumeMounts", [])}
for path, vol in mounts.items():
    check(vol in volumes, f"mount {path} names a volume ({vol})")
for v in volumes.values():
    if "configMap" in v:
        check(("ConfigMap", v["configMap"]["name"]) in docs, f"volume {v['name']}: ConfigMap {v['configMap']['name']} exists")
    if "secret" in v:
        check(("Secret", v["secret"]["secretName"]) in docs, f"volume {v['name']}: Secret {v['secret']['secretName']} exists")


def secret_keys(name):
    s = docs.get(("Secret", name), {})
    return {**s.get("data", {}), **s.get("stringData", {})}


def mounted(path):
    """The volume mounted at the folder holding path (or at path itself), and path inside it."""
    best = None
    for mp in mounts:
        if path == mp or path.startswith(mp.rstrip("/") + "/"):
            if best is None or len(mp) > len(best):
                best = mp
    if best is None or mounts[best] not in volumes:
        return None, None
    return volumes[mounts[best]], os.path.relpath(path, best)


def configmap_of(vol):
    return docs.get(("ConfigMap", vol["configMap"]["name"])) if vol and "configMap" in vol else None


# --resources-path: a ConfigMap mounted there, whose keys are component files.
rvol, rel = mounted(args.get("resources-path", "/nonexistent"))
components_cm = configmap_of(rvol)
check(components_cm is not None and rel == ".", "--resources-path is the mount of a ConfigMap")
components = {}
for key, text in (components_cm or {}).get("data", {}).items():
    c = yaml.safe_load(text)
    if check(isinstance(c, dict) and c.get("kind") == "Component" and c.get("spec", {}).get("type"),
             f"components ConfigMap: {key} is a Dapr Component with a type"):
        components[key] = c

# --config: a key of a ConfigMap mounted at its folder, a Configuration for nameresolution.kubernetes.
cvol, ckey = mounted(args.get("config", "/nonexistent"))
config_cm = configmap_of(cvol)
config = None
if check(config_cm is not None and ckey in config_cm.get("data", {}), "--config is a key of a mounted ConfigMap"):
    config = yaml.safe_load(config_cm["data"][ckey])
nr = (config or {}).get("spec", {}).get("nameResolution", {})
check((config or {}).get("kind") == "Configuration" and nr.get("component") == "kubernetes",
      "the Configuration selects nameResolution component kubernetes")
nr_port = int(nr.get("configuration", {}).get("port", 50002))
check(nr_port == internal_port, "the resolver's port is outrigd's --dapr-internal-grpc-port",
      f"{nr_port} vs {internal_port}")

# The sidecar's own namespace (the resolver's default) from the downward API.
env = {e["name"]: e for e in side.get("env", [])}
check(env.get("NAMESPACE", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.namespace",
      "NAMESPACE comes from metadata.namespace")
for c in containers:
    for e in c.get("env", []):
        ref = e.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            check(ref["key"] in secret_keys(ref["name"]),
                  f"{c['name']}: env {e['name']} names key {ref['key']} of Secret {ref['name']}")

# The sidecar-to-sidecar port, exposed by the container and the Service.
ports = {p.get("name"): p["containerPort"] for p in side.get("ports", [])}
check(internal_port in ports.values(), "the sidecar container declares the internal port")

# The Service nameresolution.kubernetes resolves: <app-id>-dapr, selecting these pods, that port.
check(svc["metadata"]["name"] == f"{app_id}-dapr", "the Service is named <app-id>-dapr",
      f"{svc['metadata']['name']} for app id {app_id}")
check(len(svc["metadata"]["name"]) <= 63 and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", svc["metadata"]["name"]),
      "the Service's name is a DNS label")
check(svc["spec"].get("selector", {}).items() <= labels.items() and svc["spec"].get("selector"),
      "the Service selects the Deployment's pods")
sports = [p for p in svc["spec"].get("ports", []) if p["port"] == internal_port]
if check(len(sports) == 1, "the Service exposes the internal port"):
    target = sports[0].get("targetPort", internal_port)
    check(ports.get(target) == internal_port if isinstance(target, str) else target == internal_port,
          "the Service's targetPort is the sidecar's internal port")

# Component files that name files: the data folder and the mounted Secret.
for key, c in components.items():
    md = {m["name"]: m.get("value") for m in c["spec"].get("metadata", []) or []}
    if c["spec"]["type"] == "secretstores.local.file":
        vol, rel = mounted(md.get("secretsFile", "/nonexistent"))
        keys = secret_keys(vol["secret"]["secretName"]) if vol and "secret" in vol else {}
        if check(rel in keys, f"{key}: secretsFile is a key of the mounted Secret"):
            try:
                json.loads(keys[rel])
                check(True, f"{key}: the secrets file is JSON")
            except ValueError as e:
                check(False, f"{key}: the secrets file is JSON", str(e))
    if c["spec"]["type"] == "state.sqlite":
        vol, _ = mounted(md.get("connectionString", "/nonexistent"))
        check(vol is not None and "emptyDir" in vol and mounts.get(args.get("data-dir")) == vol["name"],
              f"{key}: the SQLite file is on the data volume (--data-dir)")

# The kubelet's layout of a ConfigMap volume: the files are symlinks through ..data into a
# timestamped folder. outrigd must take the files and ignore the rest.
def lay_out(cm, where):
    stamp = os.path.join(where, "..2026_01_01_00_00_00.000000000")
    os.makedirs(stamp)
    for key, text in cm["data"].items():
        with open(os.path.join(stamp, key), "w") as f:
            f.write(text)
        os.symlink(os.path.join("..data", key), os.path.join(where, key))
    os.symlink(os.path.basename(stamp), os.path.join(where, "..data"))


moved = {}
if components_cm is not None and config_cm is not None:
    lay_out(components_cm, os.path.join(out, "components"))
    lay_out(config_cm, os.path.join(out, "config"))
    os.makedirs(os.path.join(out, "data"))
    moved = {args["resources-path"]: os.path.join(out, "components"),
             os.path.dirname(args["config"]): os.path.join(out, "config"),
             args["data-dir"]: os.path.join(out, "data")}
with open(os.path.join(out, "args"), "w") as f:
    for a in side.get("args", []):
        for old, new in moved.items():
            a = a.replace("=" + old, "=" + new)
        f.write(a + "\n")

sys.exit(1 if failed else 0)
