"""The production topology on loopback, for tests and benchmarks.

Debian's nginx with the shipped config (deploy/nginx/, TLS with a throw-away
certificate) in front of N independent Rasa servers (each its own
`python -m bot.serve --only rasa`, as on N hosts), one action server, the web
page and the console (`python -m bot.serve --only actions,web,dashboard`), on
a database the caller migrated and the Redis lock store. Everything on free
ports, in a temporary folder; nothing trains or migrates here.
"""
from __future__ import annotations

import http.client
import json
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from core.settings import REPO_ROOT, environment
from tests.servers import MODEL, free_port
from tests.waiting import wait_until

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
DEPLOY = REPO_ROOT / "deploy" / "nginx"


def make_certificate(folder: Path) -> Tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


@dataclass
class Topology:
    prefix: Path
    env: Dict[str, str]
    https_port: int
    http_port: int
    rasa_ports: List[int]
    cert: Path
    processes: Dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    def request(self, path: str, body: Optional[dict] = None, timeout: float = 60,
                client: str = "127.0.0.1") -> Tuple[int, Dict[str, str], bytes]:
        """One HTTPS request to nginx, from the loopback address ``client`` (each asker has
        their own address, as people on the Internet do: per-client limits see them apart)."""
        connection = http.client.HTTPSConnection("127.0.0.1", self.https_port, timeout=timeout,
                                                 context=self.tls(), source_address=(client, 0))
        try:
            data = json.dumps(body).encode("utf-8") if body is not None else None
            connection.request("POST" if data is not None else "GET", path, body=data,
                               headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def send(self, sender: str, message: str, language: str = "fr",
             client: str = "127.0.0.1") -> Tuple[List[dict], str]:
        """One chat message through nginx; returns the bot messages and nginx's request id."""
        status, headers, body = self.request("/webhooks/rest/webhook", {
            "sender": sender, "message": message, "metadata": {"language": language, "channel": "rest"}},
            client=client)
        assert status == 200, (status, body[:500])
        return json.loads(body), headers.get("X-Request-Id", "")

    def upstreams(self) -> Dict[str, str]:
        """nginx's request id -> the Rasa server (host:port) that answered it, from the access log."""
        found = {}
        log = self.prefix / "access.log"
        for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
            match = re.search(r"rid=(\w+) upstream=(.*?) rt=", line)
            if match and "/webhooks/" in line:
                found[match[1]] = match[2].split(", ")[-1]  # after a retry: the server that answered
        return found

    def supervisor_child(self, name: str) -> int:
        """Pid of the service the supervisor ``name`` runs now (from its log)."""
        pids = re.findall(r"started \(pid (\d+)\)", (self.prefix / f"{name}.log").read_text(errors="replace"))
        return int(pids[-1])

    def logs(self) -> str:
        return "\n".join(f"===== {p.name}\n" + p.read_text(errors="replace")[-3000:]
                         for p in sorted(self.prefix.glob("*.log")))

    def stop(self) -> None:
        nginx = self.processes.pop("nginx", None)
        if nginx is not None and nginx.poll() is None:
            nginx.send_signal(signal.SIGQUIT)
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in [*self.processes.values(), *([nginx] if nginx else [])]:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def nginx_config(prefix: Path, https_port: int, http_port: int, rasa_ports: List[int], web_port: int,
                 dashboard_port: int, cert: Path, key: Path) -> Path:
    """The shipped deploy/nginx files with this run's ports, paths and certificate."""
    upstreams = (DEPLOY / "upstreams.conf").read_text(encoding="utf-8")
    rasa_servers = "".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;\n" for port in rasa_ports)
    upstreams = re.sub(r"(upstream pcn_rasa \{\n)(?:    server .*\n)+", lambda m: m[1] + rasa_servers, upstreams)
    upstreams = upstreams.replace("server 127.0.0.1:8080;", f"server 127.0.0.1:{web_port};")
    upstreams = upstreams.replace("server 127.0.0.1:8501;", f"server 127.0.0.1:{dashboard_port};")
    site = (DEPLOY / "pcn-desk.conf").read_text(encoding="utf-8")
    for shipped, local in (("listen 80;", f"listen 127.0.0.1:{http_port};"),
                           ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
                           ("/var/log/nginx/pcn-desk.access.log", str(prefix / "access.log")),
                           ("/etc/ssl/pcn-desk/fullchain.pem", str(cert)),
                           ("/etc/ssl/pcn-desk/privkey.pem", str(key))):
        assert shipped in site, f"deploy/nginx/pcn-desk.conf has no {shipped!r} any more: update tests/topology.py"
        site = site.replace(shipped, local)
    (prefix / "upstreams.conf").write_text(upstreams, encoding="utf-8")
    (prefix / "pcn-desk.conf").write_text(site, encoding="utf-8")
    temp = prefix / "temp"
    temp.mkdir(exist_ok=True)
    main = f"""worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/nginx-error.log warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    access_log off;
    include {prefix}/upstreams.conf;
    include {prefix}/pcn-desk.conf;
}}
"""
    path = prefix / "nginx.conf"
    path.write_text(main, encoding="utf-8")
    return path


def start_topology(database_url: str, redis: Tuple[str, int], rasa_servers: int = 2,
                   dashboard: bool = True) -> Topology:
    if not MODEL.exists():
        raise RuntimeError(f"{MODEL} is missing: run `make train` (the README test command does it)")
    prefix = Path(tempfile.mkdtemp(prefix="pcn-topology-"))
    cert, key = make_certificate(prefix)
    https_port, http_port, actions_port, web_port, dashboard_port = (free_port() for _ in range(5))
    rasa_ports = [free_port() for _ in range(rasa_servers)]
    env = environment()
    env.update(
        PCN_DATABASE_URL=database_url, PCN_REDIS_HOST=redis[0], PCN_REDIS_PORT=str(redis[1]),
        PCN_ACTIONS_PORT=str(actions_port), PCN_ACTION_ENDPOINT=f"http://127.0.0.1:{actions_port}/webhook",
        PCN_WEB_PORT=str(web_port), PCN_DASHBOARD_PORT=str(dashboard_port), PCN_DASHBOARD_PATH="desk",
        PCN_PUBLIC_RASA_URL=f"https://127.0.0.1:{https_port}", PCN_CORS_ORIGINS=f"https://127.0.0.1:{https_port}",
        PCN_SPOOL_DIR=str(prefix / "spool"), PCN_DEMO="0", PCN_MODEL=str(MODEL),
        # separate processes share what a single launcher would make up: the action server's
        # secret; and behind nginx the client is the address nginx writes in X-Forwarded-For
        PCN_ACTIONS_SECRET=secrets.token_urlsafe(24), PCN_TRUSTED_PROXY_HEADER="X-Forwarded-For",
    )
    topology = Topology(prefix, env, https_port, http_port, rasa_ports, cert)
    config = nginx_config(prefix, https_port, http_port, rasa_ports, web_port, dashboard_port, cert, key)
    checked = subprocess.run([NGINX, "-t", "-p", str(prefix), "-c", str(config)], capture_output=True, text=True)
    if checked.returncode != 0:
        raise RuntimeError(f"nginx -t refused the config:\n{checked.stderr}")

    def launch(name: str, command: List[str], extra: Optional[Dict[str, str]] = None) -> None:
        log = open(prefix / f"{name}.log", "w")
        topology.processes[name] = subprocess.Popen(command, cwd=REPO_ROOT, env={**env, **(extra or {})},
                                                    stdout=log, stderr=subprocess.STDOUT)

    others = "actions,web,dashboard" if dashboard else "actions,web"
    launch("services", [sys.executable, "-m", "bot.serve", "--only", others])
    for index, port in enumerate(rasa_ports):
        launch(f"rasa{index}", [sys.executable, "-m", "bot.serve", "--only", "rasa"], {"PCN_RASA_PORT": str(port)})
    launch("nginx", [NGINX, "-p", str(prefix), "-c", str(config), "-g", "daemon off;"])

    def up(url: str) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status < 500
        except Exception:  # noqa: BLE001 - not up yet
            return False

    checks = [f"http://127.0.0.1:{actions_port}/health", f"http://127.0.0.1:{web_port}/"]
    checks += [f"http://127.0.0.1:{port}/" for port in rasa_ports]
    if dashboard:
        checks.append(f"http://127.0.0.1:{dashboard_port}/desk/_stcore/health")
    try:
        for url in checks:
            wait_until(lambda url=url: up(url) or any(p.poll() is not None for p in topology.processes.values()),
                       timeout=300, what=url)
            dead = [name for name, p in topology.processes.items() if p.poll() is not None]
            if dead:
                raise RuntimeError(f"{', '.join(dead)} exited")
    except (RuntimeError, TimeoutError) as error:
        logs = topology.logs()
        topology.stop()
        raise RuntimeError(f"the topology did not start: {error}\n{logs}") from error
    return topology
