"""Simulated hosts for tests/scale/test_many_hosts.py (issue 15): each web or worker
host is a network namespace of its own (loopback and one veth pair, nothing else),
running the portal with the production settings of deploy/compose.yaml. What the
hosts share lives in the root namespace, "outside" them: PostgreSQL and Redis (reached
through a TCP forwarder on each veth's host-side address, since both listen on
127.0.0.1 only), moto's S3 server as the object store, and haproxy in front of the
web hosts with the health checks of deploy/haproxy/haproxy.cfg.

Needs root (``ip netns``), iproute2, Debian's haproxy and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
REDIS_DB = 12  # the test's own Redis database (CI's other tests use 15)
BUCKET = "invoiceportal-many-hosts"
WEB_PORT = 8000


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=check, capture_output=True, text=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            result = condition()
            if result:
                return result
        time.sleep(0.2)
    raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")


@dataclass
class Host:
    name: str  # web-a, web-b, worker-a, worker-b
    netns: str
    veth_root: str
    address: str  # inside the namespace
    gateway: str  # the veth's host side, in the root namespace
    home: Path  # MEDIA_ROOT and friends: this host's own disk
    process: subprocess.Popen | None = None
    log: Path | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://{self.address}:{WEB_PORT}"


@dataclass
class ManyHosts:
    """Start with ``start()``; ``close()`` undoes everything started so far, whatever
    failed (call it from a finally or a fixture's teardown)."""

    work: Path
    tag: str = field(default_factory=lambda: f"{os.getpid() % 100000:05d}")
    hosts: dict[str, Host] = field(default_factory=dict)
    database: str = ""
    processes: list[subprocess.Popen] = field(default_factory=list)
    haproxy_port: int = 0
    stats_port: int = 0
    moto_port: int = 0
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(50))
    audit_key: str = field(default_factory=lambda: secrets.token_hex(32))
    timings: dict[str, float] = field(default_factory=dict)

    # --- the network ----------------------------------------------------------------
    def _add_host(self, index: int, name: str) -> Host:
        octet = 100 + int(self.tag) % 100
        host = Host(
            name=name,
            netns=f"mh{self.tag}-{name}",
            veth_root=f"mh{self.tag}{index}r",
            address=f"10.{octet}.{index}.2",
            gateway=f"10.{octet}.{index}.1",
            home=self.work / "hosts" / name,
        )
        self.hosts[name] = host
        inner = f"mh{self.tag}{index}n"
        _run("ip", "netns", "add", host.netns)
        _run("ip", "link", "add", host.veth_root, "type", "veth", "peer", "name", inner)
        _run("ip", "link", "set", inner, "netns", host.netns)
        _run("ip", "addr", "add", f"{host.gateway}/30", "dev", host.veth_root)
        _run("ip", "link", "set", host.veth_root, "up")
        ns = ("ip", "netns", "exec", host.netns)
        _run(*ns, "ip", "link", "set", "lo", "up")
        _run(*ns, "ip", "addr", "add", f"{host.address}/30", "dev", inner)
        _run(*ns, "ip", "link", "set", inner, "up")
        _run(*ns, "ip", "route", "add", "default", "via", host.gateway)
        for sub in ("media", "static", "audit", "fonts", "metrics"):
            (host.home / sub).mkdir(parents=True, exist_ok=True)
        return host

    def _start_forwarder(self) -> None:
        routes = [
            f"{h.gateway}:{port}=127.0.0.1:{port}"
            for h in self.hosts.values()
            for port in (5432, 6379, self.moto_port)
        ]
        proc = self._spawn(
            [PYTHON, str(ROOT / "tests" / "scale" / "tcp_forward.py"), *routes],
            "forwarder",
            stdout=subprocess.PIPE,
        )
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != b"ready":
            raise RuntimeError("the TCP forwarder did not start")

    # --- processes ------------------------------------------------------------------
    def _spawn(
        self,
        args: list[str],
        name: str,
        *,
        env: dict[str, str] | None = None,
        stdout: int | None = None,
    ) -> subprocess.Popen:
        log = self.work / "logs" / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        handle = open(log, "ab")  # noqa: SIM115 (the child keeps it)
        proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env or self.root_env(),
            stdout=stdout or handle,
            stderr=handle,
            start_new_session=True,  # its own process group, killed as one
        )
        handle.close()
        self.processes.append(proc)
        return proc

    def root_env(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(ROOT),
        }

    def host_env(self, host: Host) -> dict[str, str]:
        web = [h.address for h in self.hosts.values() if h.name.startswith("web")]
        gw = host.gateway
        return {
            **self.root_env(),
            "DJANGO_SETTINGS_MODULE": "invoiceportal.settings",
            "DJANGO_ENV": "production",
            "SECRET_KEY": self.secret_key,
            "AUDIT_HMAC_KEY": self.audit_key,
            "ALLOWED_HOSTS": ",".join(["localhost", "127.0.0.1", *web]),
            "SECURE_SSL_REDIRECT": "0",  # TLS ends at haproxy (none in this test)
            "PROXY_COUNT": "1",
            "DATABASE_URL": f"postgres://postgres@{gw}:5432/{self.database}",
            "DB_POOL_MIN_SIZE": "1",
            "DB_POOL_MAX_SIZE": "4",
            "DB_POOL_TIMEOUT": "5",
            "REDIS_URL": f"redis://{gw}:6379/{REDIS_DB}",
            "CACHE_KEY_PREFIX": f"many-hosts-{self.tag}",
            "DOCUMENT_STORAGE_BACKEND": "s3",
            "AWS_STORAGE_BUCKET_NAME": BUCKET,
            "AWS_S3_ENDPOINT_URL": f"http://{gw}:{self.moto_port}",
            "AWS_S3_REGION_NAME": "us-east-1",
            "AWS_S3_ADDRESSING_STYLE": "path",
            "AWS_ACCESS_KEY_ID": "many-hosts",
            "AWS_SECRET_ACCESS_KEY": "many-hosts-secret",
            # This host's own disk: nothing a request or a task needs may be here.
            "MEDIA_ROOT": str(host.home / "media"),
            "STATIC_ROOT": str(host.home / "static"),
            "AUDIT_CHECKPOINT_DIR": str(host.home / "audit"),
            "RECEIPT_FONT_CACHE": str(host.home / "fonts"),
            "Q_WORKERS": "2",
            # The sweep re-queues every invoice still undecided when it runs (instead
            # of those untouched for 10 minutes): the test moves its next run forward
            # rather than waiting its 2-minute period.
            "SCREENING_STUCK_MINUTES": "0",
            "LOG_FORMAT": "text",
            "ACCESS_LOG_LEVEL": "WARNING",
        }

    def _in_host(self, host: Host, args: list[str], name: str) -> subprocess.Popen:
        return self._spawn(
            ["ip", "netns", "exec", host.netns, *args], name, env=self.host_env(host)
        )

    def start_web(self, host: Host) -> None:
        host.starts += 1
        host.process = self._in_host(
            host,
            [
                PYTHON,
                "-m",
                "gunicorn",
                "invoiceportal.wsgi",
                "--bind",
                f"0.0.0.0:{WEB_PORT}",
                "--workers",
                "2",
                "--threads",
                "2",
                "--preload",
                "--timeout",
                "60",
                "--graceful-timeout",
                "10",
            ],
            f"{host.name}.{host.starts}",
        )
        host.log = self.work / "logs" / f"{host.name}.{host.starts}.log"

    def wait_web_ready(self, host: Host, timeout: float = 60) -> None:
        def ready() -> bool:
            if host.process is not None and host.process.poll() is not None:
                raise RuntimeError(f"{host.name} exited: {self.tail(host)}")
            with urllib.request.urlopen(f"{host.url}/readyz", timeout=2) as r:
                return r.status == 200

        try:
            wait_for(ready, timeout, f"{host.name} /readyz")
        except RuntimeError:
            raise
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}\n{self.tail(host)}") from exc

    def start_worker(self, host: Host) -> None:
        host.starts += 1
        host.process = self._in_host(
            host, [PYTHON, "manage.py", "qcluster"], f"{host.name}.{host.starts}"
        )
        host.log = self.work / "logs" / f"{host.name}.{host.starts}.log"

    def start_sealer(self, host: Host) -> None:
        """The compose file's sealer role: seals committed audit entries every 5 s."""
        self._in_host(
            host, [PYTHON, "manage.py", "audit_seal", "--every", "5"], "sealer"
        )

    def manage(self, host: Host, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["ip", "netns", "exec", host.netns, PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.host_env(host),
            capture_output=True,
            text=True,
            timeout=120,
        )

    def tail(self, host: Host, lines: int = 30) -> str:
        if host.log is None or not host.log.exists():
            return ""
        text = host.log.read_text(errors="replace").splitlines()[-lines:]
        return f"--- {host.log.name}\n" + "\n".join(text)

    def sigkill_group(self, host: Host) -> None:
        assert host.process is not None
        os.killpg(host.process.pid, signal.SIGKILL)
        host.process.wait(10)

    def sigterm_and_wait(self, host: Host, timeout: float = 30) -> None:
        assert host.process is not None
        host.process.send_signal(signal.SIGTERM)
        host.process.wait(timeout)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(host.process.pid, signal.SIGKILL)  # nothing outlives the host

    # --- haproxy --------------------------------------------------------------------
    def _start_haproxy(self) -> None:
        self.haproxy_port, self.stats_port = free_port(), free_port()
        web = [h for h in self.hosts.values() if h.name.startswith("web")]
        servers = "\n".join(
            f"    server {h.name} {h.address}:{WEB_PORT} check" for h in web
        )
        # deploy/haproxy/haproxy.cfg without TLS and Docker's resolver; checks every
        # second instead of three (and no slowstart) to keep the test short.
        config = f"""
global
    maxconn 1024

defaults
    mode http
    option forwardfor
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-request 10s
    retries 1
    option redispatch
    retry-on conn-failure empty-response response-timeout

frontend portal
    bind 127.0.0.1:{self.haproxy_port}
    http-request del-header X-Forwarded-For
    http-response set-header X-Served-By %s
    default_backend web

backend web
    balance leastconn
    option httpchk
    http-check send meth GET uri /readyz hdr Host localhost
    http-check expect status 200
    default-server inter 1s fall 2 rise 2
{servers}

frontend stats
    bind 127.0.0.1:{self.stats_port}
    stats enable
    stats uri /
"""
        path = self.work / "haproxy.cfg"
        path.write_text(config)
        check = _run("haproxy", "-c", "-f", str(path), check=False)
        if check.returncode != 0:
            raise RuntimeError(f"haproxy refused its config: {check.stderr}")
        self._spawn(["haproxy", "-db", "-f", str(path)], "haproxy")

    @property
    def haproxy_url(self) -> str:
        return f"http://127.0.0.1:{self.haproxy_port}"

    def haproxy_stats(self) -> dict[str, dict[str, str]]:
        """haproxy's CSV statistics of the web backend, by server (and "BACKEND")."""
        url = f"http://127.0.0.1:{self.stats_port}/;csv"
        with urllib.request.urlopen(url, timeout=2) as response:
            text = response.read().decode().lstrip("# ")
        return {
            row["svname"]: row
            for row in csv.DictReader(io.StringIO(text))
            if row["pxname"] == "web"
        }

    def backend_states(self) -> dict[str, str]:
        """haproxy's view of the web hosts: {"web-a": "UP", ...}."""
        return {
            name: row["status"].split()[0]
            for name, row in self.haproxy_stats().items()
            if name in self.hosts
        }

    # --- the database ---------------------------------------------------------------
    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        with (
            psycopg.connect(
                f"postgresql://postgres@127.0.0.1:5432/{self.database}", autocommit=True
            ) as conn,
            conn.cursor() as cur,
        ):
            cur.execute(query, params)
            return cur.fetchall() if cur.description else []

    def _admin_sql(self, statement: str) -> None:
        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True
        ) as conn:
            conn.execute(statement)

    def redis(self, *args: str) -> str:
        import redis

        client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
        try:
            return client.execute_command(*args)
        finally:
            client.close()

    # --- the whole -----------------------------------------------------------------
    def start(self, invoice_count: int) -> dict:
        """Everything up and ready; returns the seed's description (users, files)."""
        t0 = time.monotonic()
        self.database = f"many_hosts_{self.tag}"
        self._admin_sql(f'DROP DATABASE IF EXISTS "{self.database}"')
        self._admin_sql(f'CREATE DATABASE "{self.database}"')
        self.redis("FLUSHDB")
        self.moto_port = free_port()
        migrate = self._spawn(
            [PYTHON, "manage.py", "migrate", "--noinput"],
            "migrate",
            env=self.root_host_env(),
        )
        for index, name in enumerate(("web-a", "web-b", "worker-a", "worker-b"), 1):
            self._add_host(index, name)
        self._spawn(
            [PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.moto_port)],
            "object-store",
        )
        self._start_forwarder()
        wait_for(self._make_bucket, 30, "the object store")
        if migrate.wait(180) != 0:
            raise RuntimeError("migrate failed; see " + str(self.work / "logs"))
        self.timings["database migrated"] = time.monotonic() - t0
        for name in ("web-a", "web-b"):
            self.start_web(self.hosts[name])
        for name in ("worker-a", "worker-b"):
            self.start_worker(self.hosts[name])
        self.start_sealer(self.hosts["worker-b"])
        seed = subprocess.run(  # while the hosts start
            [
                PYTHON,
                "-m",
                "tests.scale.many_hosts_seed",
                str(self.work / "docs"),
                str(invoice_count),
            ],
            cwd=ROOT,
            env=self.root_host_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if seed.returncode != 0:
            raise RuntimeError(f"seed failed: {seed.stderr[-3000:]}")
        described = json.loads(seed.stdout.strip().splitlines()[-1])
        self._start_haproxy()
        for name in ("web-a", "web-b"):
            self.wait_web_ready(self.hosts[name])
        wait_for(
            lambda: set(self.backend_states().values()) == {"UP"},
            30,
            "haproxy to see both web hosts up",
        )
        wait_for(
            lambda: len(self.redis("KEYS", "django_q:invoiceportal:cluster:*")) >= 2,
            60,
            "both worker clusters to report to Redis",
        )
        self.timings["hosts up"] = time.monotonic() - t0
        return described

    def root_host_env(self) -> dict[str, str]:
        """A host's settings for one-off commands run from the root namespace (the
        compose file's migrate role): the database on 127.0.0.1."""
        env = self.host_env(
            Host("root", "", "", "127.0.0.1", "127.0.0.1", self.work / "hosts" / "root")
        )
        (self.work / "hosts" / "root").mkdir(parents=True, exist_ok=True)
        return env

    def _make_bucket(self) -> bool:
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{self.moto_port}",
            aws_access_key_id="many-hosts",
            aws_secret_access_key="many-hosts-secret",
            region_name="us-east-1",
        )
        client.create_bucket(Bucket=BUCKET)
        return True

    def close(self) -> None:
        for proc in reversed(self.processes):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                proc.wait(10)
            if proc.stdout is not None:
                proc.stdout.close()
        for host in self.hosts.values():
            _run("ip", "link", "del", host.veth_root, check=False)
            _run("ip", "netns", "del", host.netns, check=False)
        if self.database:
            with contextlib.suppress(Exception):
                self._admin_sql(
                    f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'
                )
        with contextlib.suppress(Exception):
            self.redis("FLUSHDB")
