#!/usr/bin/python3
"""deploy/kubernetes against the Trino chart and against our own checkers.

Runs the README's Kubernetes block with kubectl, helm and trino-guardctl
standing in (the real trino-guardctl for keygen; the others record the
Secrets made, the files applied and the values files installed), then holds
what they recorded to:
  (a) the chart: every key a values file sets is in the chart's documented
      values (tests/fixtures/trino-chart/values-keys.txt), of the same type;
  (b) our checkers: each pod's volumes are laid out as the kubelet lays them
      out (ConfigMaps and Secrets behind ..data links, a Secret's files 0644),
      the init containers' commands run on them, and the daemons'
      --check-config --offline read the ConfigMaps' agent.ini/collector.ini
      with the container's env (HOSTNAME the pod's name);
  (c) the mounts: every absolute path a config or a command names is mapped
      through the mounts of the container that reads it (a path no mount
      holds fails), a path the daemon writes is on a writable mount, the
      agents' endpoint is the collector Service's port and the probes' port
      is the container's.
Exit 0 passed, 1 failed.
  kubernetes_manifests.py SOURCE_DIR AGENT COLLECTOR TRINO_GUARDCTL
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

# The volumes the chart's templates/deployment-{coordinator,worker}.yaml give
# every Trino pod itself (same commit as the fixture): its config files at
# server.config.path and the catalogs under it.
CHART_VOLUMES = {
    "config-volume": {"config.properties": "coordinator=false\nhttp-server.http.port=8080\n",
                      "node.properties": "node.environment=production\nnode.data-dir=/data/trino\n",
                      "jvm.config": "-server\n-Xmx8G\n", "log.properties": "io.trino=INFO\n"},
    "catalog-volume": {"tpch.properties": "connector.name=tpch\n"},
}
# What the chart reads from each secretMounts / configMounts entry.
MOUNT_ENTRY_KEYS = {"secretMounts": {"name", "secretName", "path", "subPath"},
                    "configMounts": {"name", "configMap", "path", "subPath"}}
CHART_CONFIG_PATH = "/etc/trino"  # server.config.path's default
POD_NAMES = {"coordinator": "trino-{c}-coordinator-6d9c7b5f4-x2k9q",
             "worker": "trino-{c}-worker-7f8d6c9b5-m4p7z"}
failures = []


def fail(what):
    failures.append(what)
    print("kubernetes_manifests: FAILED: " + what, flush=True)


def load_yaml_docs(path):
    try:
        with open(path) as f:
            return [d for d in yaml.safe_load_all(f) if d is not None]
    except yaml.YAMLError as e:
        fail("%s does not parse: %s" % (path, e))
        return []


# --- the README's block, with stand-ins --------------------------------------
FAKE = r'''#!/bin/sh
exec %(py)s %(me)s --fake "$(basename "$0")" "$@"
'''


def fake_main(tool, args):
    work = os.environ["TG_K8S_WORK"]
    record = os.path.join(work, "record.jsonl")
    if tool == "trino-guardctl":
        if args[:1] == ["keygen"]:
            os.execv(os.environ["TG_K8S_CTL"], ["trino-guardctl"] + args)
        return 0  # status and the rest: no collector here
    while args[:1] == ["-n"] or args[:1] == ["--namespace"]:
        args = args[2:]
    if tool == "kubectl" and args[:3] == ["create", "secret", "generic"]:
        name, files = args[3], {}
        for a in args[4:]:
            if a.startswith("-n") or a == "trino":
                continue
            m = re.fullmatch(r"--from-file=(?:([^=]+)=)?(.+)", a)
            if not m:
                print("fake kubectl: cannot read %r" % a, file=sys.stderr)
                return 1
            with open(m.group(2)) as f:
                files[m.group(1) or os.path.basename(m.group(2))] = f.read()
        entry = {"secret": name, "data": files}
    elif tool == "kubectl" and args[:1] == ["apply"]:
        entry = {"apply": [os.path.realpath(a) for a in args[1:] if a != "-f"]}
    elif tool == "helm" and args[:1] == ["install"]:
        values = [os.path.realpath(args[i + 1]) for i, a in enumerate(args) if a == "-f"]
        entry = {"helm": args[1], "values": values}
    else:
        return 0  # repo add, port-forward
    with open(record, "a") as f:
        f.write(json.dumps(entry) + "\n")
    return 0


def readme_block(src):
    """The sh block of README.md's Kubernetes section."""
    with open(os.path.join(src, "README.md")) as f:
        text = f.read()
    m = re.search(r"^### Kubernetes\n(.*?)^#{2,3} ", text, re.S | re.M)
    if not m:
        fail("README.md has no '### Kubernetes' section")
        return ""
    blocks = re.findall(r"^```sh\n(.*?)^```", m.group(1), re.S | re.M)
    if len(blocks) != 1:
        fail("README.md's Kubernetes section has %d sh blocks, expected 1" % len(blocks))
        return ""
    return blocks[0]


def run_readme(src, ctl, work):
    bindir = os.path.join(work, "bin")
    os.makedirs(bindir)
    for tool in ("kubectl", "helm", "trino-guardctl"):
        path = os.path.join(bindir, tool)
        with open(path, "w") as f:
            f.write(FAKE % {"py": sys.executable, "me": os.path.abspath(__file__)})
        os.chmod(path, 0o755)
    cwd = os.path.join(work, "readme")
    os.makedirs(cwd)
    os.symlink(src, os.path.join(cwd, "trino-guard"))
    env = dict(os.environ, PATH=bindir + ":" + os.environ["PATH"], TG_K8S_WORK=work,
               TG_K8S_CTL=ctl)
    script = "set -eu\n" + readme_block(src)
    done = subprocess.run(["sh", "-c", script], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60)
    if done.returncode != 0:
        fail("the README's Kubernetes block failed (%d): %s%s" %
             (done.returncode, done.stdout, done.stderr))
    secrets, applied, values = {}, [], []
    record = os.path.join(work, "record.jsonl")
    if os.path.exists(record):
        with open(record) as f:
            for line in f:
                e = json.loads(line)
                if "secret" in e:
                    secrets[e["secret"]] = e["data"]
                elif "apply" in e:
                    applied += e["apply"]
                else:
                    values += e["values"]
    return secrets, applied, values


# --- (a) the values against the chart's key tree -----------------------------
def load_key_tree(path):
    tree = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if line:
                tree[line[0]] = line[1]
    return tree


def check_values_keys(name, values, tree, prefix=""):
    for key, value in values.items():
        path = prefix + key
        kind = tree.get(path)
        if kind is None:
            fail("%s: %s is not a key of the chart's values" % (name, path))
        elif kind == "map":
            if not isinstance(value, dict):
                fail("%s: %s is a map in the chart, here %r" % (name, path, value))
            else:
                check_values_keys(name, value, tree, path + ".")
        elif kind == "open" and not isinstance(value, dict):
            fail("%s: %s is a map in the chart, here %r" % (name, path, value))
        elif kind == "list" and not isinstance(value, list):
            fail("%s: %s is a list in the chart, here %r" % (name, path, value))
        elif kind == "scalar" and isinstance(value, (dict, list)):
            fail("%s: %s is a single value in the chart" % (name, path))
        if key in MOUNT_ENTRY_KEYS and isinstance(value, list):
            for entry in value:
                for k in set(entry) - MOUNT_ENTRY_KEYS[key]:
                    fail("%s: %s entry %s: the chart reads no '%s'" %
                         (name, path, entry.get("name"), k))


# --- the pods ------------------------------------------------------------------
def chart_pods(name, values):
    """The two pods the chart renders from a values file, as far as we use them."""
    pods = []
    for role in ("coordinator", "worker"):
        mounts = values.get("secretMounts", []) + values.get(role, {}).get("secretMounts", [])
        volumes = [{"name": v, "chart": v} for v in CHART_VOLUMES]
        volumes += [{"name": m["name"], "secret": {"secretName": m.get("secretName", "")}} for m in mounts]
        volumes += values.get(role, {}).get("additionalVolumes", [])
        trino = {"name": "trino-" + role,
                 "volumeMounts": [{"name": "config-volume", "mountPath": CHART_CONFIG_PATH},
                                  {"name": "catalog-volume",
                                   "mountPath": CHART_CONFIG_PATH + "/catalog"}] +
                 [{"name": m["name"], "mountPath": m["path"]} for m in mounts]}
        pods.append({"what": "%s's %s pod" % (name, role), "role": role,
                     "spec": {"volumes": volumes,
                              "initContainers": values.get("initContainers", {}).get(role, []),
                              "containers": [trino] +
                              values.get("sidecarContainers", {}).get(role, [])}})
    return pods


def write_kubelet_volume(root, files):
    """A ConfigMap or Secret volume as the kubelet's atomic writer leaves it."""
    data = os.path.join(root, "..2026_12_02_10_00_00.000000001")
    for rel, content in files.items():
        path = os.path.join(data, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(content)
        os.chmod(path, 0o644)  # defaultMode
    os.symlink(os.path.basename(data), os.path.join(root, "..data"))
    for top in {rel.split("/")[0] for rel in files}:
        os.symlink(os.path.join("..data", top), os.path.join(root, top))


def lay_out_volumes(pod, root, configmaps, secrets, claims):
    dirs = {}
    for v in pod["spec"].get("volumes", []):
        path = os.path.join(root, v["name"])
        os.makedirs(path)
        dirs[v["name"]] = path
        if "chart" in v:
            files = CHART_VOLUMES[v["chart"]]
        elif "configMap" in v:
            files = configmaps.get(v["configMap"]["name"])
            what = "ConfigMap " + v["configMap"]["name"]
        elif "secret" in v:
            files = secrets.get(v["secret"]["secretName"])
            what = "Secret " + v["secret"]["secretName"]
        elif "emptyDir" in v:
            continue
        elif "persistentVolumeClaim" in v:
            if v["persistentVolumeClaim"]["claimName"] not in claims:
                fail("%s: volume %s: no PersistentVolumeClaim %s in the manifests" %
                     (pod["what"], v["name"], v["persistentVolumeClaim"]["claimName"]))
            continue
        else:
            fail("%s: volume %s of a kind this test does not know" % (pod["what"], v["name"]))
            continue
        if files is None:
            fail("%s: volume %s: no %s (README's commands or the manifests)" %
                 (pod["what"], v["name"], what))
            continue
        source = v.get("configMap") or v.get("secret") or {}
        if "items" in source:
            picked = {}
            for item in source["items"]:
                if item["key"] not in files:
                    fail("%s: volume %s: %s has no key %s" % (pod["what"], v["name"], what,
                                                               item["key"]))
                else:
                    picked[item["path"]] = files[item["key"]]
            files = picked
        write_kubelet_volume(path, files)
    return dirs


class Container:
    def __init__(self, pod, spec, dirs):
        self.what = "%s, container %s" % (pod["what"], spec["name"])
        self.spec = spec
        self.mounts = []
        for m in spec.get("volumeMounts", []):
            if m["name"] not in dirs:
                fail("%s mounts %s, which the pod does not have" % (self.what, m["name"]))
                continue
            self.mounts.append((m["mountPath"].rstrip("/"), dirs[m["name"]],
                                m.get("readOnly", False)))
        self.mounts.sort(key=lambda m: -len(m[0]))  # the deepest mount holds the path

    def host_path(self, path, write=False):
        for mount_path, host, read_only in self.mounts:
            if path == mount_path or path.startswith(mount_path + "/"):
                if write and read_only:
                    fail("%s: %s is written but its mount is read-only" % (self.what, path))
                return host + path[len(mount_path):]
        fail("%s: %s is on no volume mounted in this container" % (self.what, path))
        return None

    def env(self, pod_name):
        env = {"HOSTNAME": pod_name, "PATH": os.environ["PATH"]}
        for e in self.spec.get("env", []):
            env[e["name"]] = e.get("value", "")
        return env


def run_init_containers(pod, dirs):
    for spec in pod["spec"].get("initContainers", []):
        c = Container(pod, spec, dirs)
        command = spec.get("command", [])
        if command[:2] != ["sh", "-c"] or len(command) != 3:
            fail("%s: expected the command sh -c SCRIPT" % c.what)
            continue
        script = command[2]
        for path in sorted(set(re.findall(r"(?<![\w.])/[\w./-]*", script)), key=len, reverse=True):
            host = c.host_path(path.rstrip("/"))
            if host is not None:
                script = re.sub(r"(?<![\w.])" + re.escape(path), host + path[len(path.rstrip("/")):], script)
        done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            fail("%s: its command failed: %s" % (c.what, done.stderr.strip()))
        else:
            print("kubernetes_manifests: %s: ran its command" % c.what)


INI_WRITTEN = {"state_dir"}


def check_daemon(pod, spec, dirs, binary, pod_name, work):
    c = Container(pod, spec, dirs)
    command = spec.get("command", [])
    if "-c" not in command or command.index("-c") + 1 >= len(command):
        fail("%s: its command names no config file (-c FILE)" % c.what)
        return
    ini = c.host_path(command[command.index("-c") + 1])
    if ini is None:
        return
    if not os.path.exists(ini):
        fail("%s: %s is not in its volume" % (c.what, command[command.index("-c") + 1]))
        return
    lines = []
    with open(ini) as f:
        for line in f:
            m = re.match(r"^(\s*)([\w.-]+)(\s*=\s*)(/\S*)\s*$", line)
            if m:
                host = c.host_path(m.group(4), write=m.group(2) in INI_WRITTEN)
                if host is None:
                    continue
                line = "%s%s%s%s\n" % (m.group(1), m.group(2), m.group(3), host)
            lines.append(line)
    checked = os.path.join(work, "%s-%s.ini" % (pod_name, spec["name"]))
    with open(checked, "w") as f:
        f.writelines(lines)
    done = subprocess.run([binary, "--check-config", "--offline", "-c", checked],
                          env=c.env(pod_name), capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        fail("%s: %s --check-config --offline exits %d: %s%s" %
             (c.what, os.path.basename(binary), done.returncode, done.stdout, done.stderr))
    else:
        print("kubernetes_manifests: %s: %s --check-config --offline: %s" %
              (c.what, os.path.basename(binary), done.stdout.strip().replace(work, "")))
    return lines


def ini_value(lines, section, key):
    current = None
    for line in lines or []:
        m = re.match(r"^\[(.+)\]", line)
        if m:
            current = m.group(1)
        m = re.match(r"^\s*([\w.-]+)\s*=\s*(.*?)\s*$", line)
        if m and current == section and m.group(1) == key:
            return m.group(2)
    return None


def listen_port(listen):
    m = re.search(r":(\d+)$", listen or "")
    return int(m.group(1)) if m else None


def main(argv):
    if len(argv) >= 3 and argv[1] == "--fake":
        return fake_main(argv[2], argv[3:])
    src, agent, collector, ctl = (os.path.realpath(a) for a in argv[1:5])
    kube = os.path.join(src, "deploy", "kubernetes")
    work = tempfile.mkdtemp(prefix="tg-k8s.")
    try:
        secrets, applied, values_files = run_readme(src, ctl, work)
        manifests = sorted(os.path.join(kube, f) for f in os.listdir(kube)
                           if f.endswith(".yaml") and not f.endswith("values.yaml"))
        for m in manifests:
            if m not in applied:
                fail("README's block does not apply %s" % os.path.relpath(m, src))
        if os.path.join(kube, "trino-values.yaml") not in values_files:
            fail("README's block installs no release with deploy/kubernetes/trino-values.yaml")

        docs = [d for m in manifests for d in load_yaml_docs(m)]
        configmaps = {d["metadata"]["name"]: d.get("data", {}) for d in docs
                      if d.get("kind") == "ConfigMap"}
        claims = {d["metadata"]["name"] for d in docs if d.get("kind") == "PersistentVolumeClaim"}
        services = [d for d in docs if d.get("kind") == "Service"]

        tree = load_key_tree(os.path.join(src, "tests", "fixtures", "trino-chart",
                                          "values-keys.txt"))
        agent_endpoints = []
        for vf in values_files:
            name = os.path.basename(vf)
            docs_v = load_yaml_docs(vf)
            if len(docs_v) != 1 or not isinstance(docs_v[0], dict):
                fail("%s: not one YAML map" % name)
                continue
            check_values_keys(name, docs_v[0], tree)
            print("kubernetes_manifests: %s: its keys are the chart's" % name)
            for pod in chart_pods(name, docs_v[0]):
                root = os.path.join(work, name + "-" + pod["role"])
                dirs = lay_out_volumes(pod, root, configmaps, secrets, claims)
                run_init_containers(pod, dirs)
                sidecars = [s for s in pod["spec"]["containers"]
                            if "trino-guard-agent" in s.get("command", [])[:1]]
                if len(sidecars) != 1:
                    fail("%s: %d trino-guard-agent containers, expected 1" %
                         (pod["what"], len(sidecars)))
                cluster = next((e.get("value") for s in sidecars for e in s.get("env", [])
                                if e["name"] == "TRINO_GUARD_CLUSTER"), "?")
                for s in sidecars:
                    lines = check_daemon(pod, s, dirs, agent,
                                         POD_NAMES[pod["role"]].format(c=cluster), work)
                    agent_endpoints.append(ini_value(lines, "collector", "endpoints"))

        deployments = [d for d in docs if d.get("kind") == "Deployment"]
        if len(deployments) != 1:
            fail("%d Deployments in deploy/kubernetes, expected the collector's" % len(deployments))
        for d in deployments:
            template = d["spec"]["template"]
            pod = {"what": "Deployment " + d["metadata"]["name"], "role": "collector",
                   "spec": template["spec"]}
            if d["spec"].get("replicas") != 1 or d["spec"].get("strategy", {}).get("type") != "Recreate":
                fail("%s: not one replica with the Recreate strategy" % pod["what"])
            context = template["spec"].get("securityContext", {})
            if context.get("runAsNonRoot") is not True or not context.get("runAsUser"):
                fail("%s: the pod does not run as a non-root user" % pod["what"])
            dirs = lay_out_volumes(pod, os.path.join(work, "collector"), configmaps, secrets,
                                   claims)
            run_init_containers(pod, dirs)
            for spec in template["spec"]["containers"]:
                lines = check_daemon(pod, spec, dirs, collector,
                                     "trino-guard-collector-5c7d9-q8r2w", work)
                zmq_port = listen_port(ini_value(lines, "collector", "listen"))
                api_port = listen_port(ini_value(lines, "api", "listen"))
                ports = {p["name"]: p["containerPort"] for p in spec.get("ports", [])}
                for probe in ("readinessProbe", "livenessProbe"):
                    get = spec.get(probe, {}).get("httpGet", {})
                    if get.get("path") != "/healthz" or ports.get(get.get("port")) != api_port:
                        fail("%s: %s is not /healthz on the API's port %s" %
                             (pod["what"], probe, api_port))
                labels = template["metadata"].get("labels", {})
                for svc in services:
                    selector = svc["spec"].get("selector", {})
                    if any(labels.get(k) != v for k, v in selector.items()):
                        fail("Service %s selects no pod of %s" % (svc["metadata"]["name"],
                                                                   pod["what"]))
                    for p in svc["spec"]["ports"]:
                        if p.get("targetPort") not in ports:
                            fail("Service %s: port %s targets no port of the collector" %
                                 (svc["metadata"]["name"], p.get("name")))
                for endpoint in set(agent_endpoints):
                    m = re.fullmatch(r"tcp://([\w.-]+):(\d+)", endpoint or "")
                    served = [svc for svc in services if m and
                              m.group(1).split(".")[0] == svc["metadata"]["name"] and
                              any(p["port"] == int(m.group(2)) and
                                  ports.get(p.get("targetPort")) == zmq_port
                                  for p in svc["spec"]["ports"])]
                    if not served:
                        fail("the agents' endpoints %s are no Service port of the collector's "
                             "ZeroMQ port" % endpoint)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print("kubernetes_manifests: %d failure(s)" % len(failures))
        return 1
    print("kubernetes_manifests: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
