"""Production mode (`make serve`): runs the desk's services, restarts a crashed one.

Unlike `make run` (the demo), it never trains and never migrates: those are
release steps (`make train`, `make migrate`, or the pcn-migrate systemd unit).
It refuses to start, with a message saying what to do, when the model is
missing or the database is not at the code's migration head.

    python -m bot.serve                      # every service on this host, supervised
    python -m bot.serve --only rasa          # some services (comma-separated), supervised
    python -m bot.serve --exec rasa          # one service in the foreground (systemd restarts it)
    python -m bot.serve --check              # the start-up checks only

Services: actions, rasa, web, dashboard, mail — the same commands as `make run`
(``bot.launcher.processes``). Several Rasa servers (one per host, or several
ports on one host) share the database and the Redis lock store: set
``PCN_REDIS_HOST`` (``endpoints.production.yml``) and give each its
``PCN_RASA_PORT``. A service that exits is started again after a back-off
that doubles from 1 s up to 60 s, and resets once it has run for 60 s.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from core import settings
from core.settings import REPO_ROOT, environment

SERVICES = ("actions", "rasa", "web", "dashboard", "mail")
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 60.0
HEALTHY_AFTER = 60.0  # a service that ran this long starts again from the first back-off


class NotReady(RuntimeError):
    """The desk cannot start: the message says which release step is missing."""


def check_model(env: Dict[str, str]) -> None:
    model = settings.model_path(env)
    if not model.is_file():
        raise NotReady(f"No trained model at {model}. Train it first (`make train`), or set PCN_MODEL "
                       "to the model built by your release pipeline. `make serve` never trains.")


def check_migrations(env: Dict[str, str]) -> None:
    from db import migrate

    url = settings.database_url(env)
    try:
        if migrate.is_up_to_date(url):
            return
        current, heads = set(migrate.current(url)), set(migrate.heads())
    except Exception as error:  # noqa: BLE001 - any failure here means "cannot start", said plainly
        raise NotReady(f"Cannot read the database's migration state ({type(error).__name__}: "
                       f"{str(error).splitlines()[0]}). Is PCN_DATABASE_URL right and the database up?") from error
    if current != heads:
        raise NotReady(f"The database is at {', '.join(sorted(current)) or 'no revision'}, the code needs "
                       f"{', '.join(sorted(heads))}. Run the migrations first (`make migrate`, or the "
                       "pcn-migrate unit). `make serve` never migrates.")


def check_settings(services: List[str], env: Dict[str, str]) -> None:
    if settings.flag("PCN_DEMO", env):
        raise NotReady("PCN_DEMO=1 (demo data and demo accounts) is for `make run`; production runs with PCN_DEMO=0.")
    if set(services) & {"rasa", "actions"} and not settings.get("PCN_ACTIONS_SECRET", env):
        raise NotReady("Set PCN_ACTIONS_SECRET: the Rasa servers and the action server, which may run on "
                       "several hosts, must share it (`make run` makes one up; production does not).")


def check(services: List[str], env: Dict[str, str]) -> None:
    check_settings(services, env)
    if "rasa" in services:
        check_model(env)
    if set(services) & {"rasa", "actions", "dashboard", "mail"}:
        check_migrations(env)


def commands(env: Dict[str, str]) -> Dict[str, List[str]]:
    from bot.launcher import processes

    return processes(env)


def production_env() -> Dict[str, str]:
    env = environment()
    env["SANIC_WORKERS"] = settings.get("PCN_RASA_WORKERS", env)
    return env


@dataclass
class Service:
    name: str
    command: List[str]
    process: Optional[subprocess.Popen] = None
    started_at: float = 0.0
    backoff: float = FIRST_BACKOFF
    restart_at: Optional[float] = None
    restarts: int = field(default=0)


class Supervisor:
    """Starts services, restarts the ones that exit (with back-off), stops them all on SIGTERM/SIGINT."""

    def __init__(self, services: Dict[str, List[str]], env: Dict[str, str]) -> None:
        self.services = [Service(name, command, backoff=FIRST_BACKOFF) for name, command in services.items()]
        self.env = env
        self.stopping = False

    def say(self, message: str) -> None:
        print(f"serve: {message}", flush=True)

    def start(self, service: Service) -> None:
        service.process = subprocess.Popen(service.command, cwd=REPO_ROOT, env=self.env)
        service.started_at = time.monotonic()
        service.restart_at = None
        self.say(f"{service.name} started (pid {service.process.pid})")

    def exited(self, service: Service, now: float) -> None:
        code = service.process.returncode
        if now - service.started_at >= HEALTHY_AFTER:
            service.backoff = FIRST_BACKOFF
        service.restart_at = now + service.backoff
        self.say(f"{service.name} exited with {code}; restarting in {service.backoff:.0f} s")
        service.backoff = min(MAX_BACKOFF, service.backoff * 2)
        service.restarts += 1
        service.process = None

    def step(self) -> None:
        now = time.monotonic()
        for service in self.services:
            if service.process is not None and service.process.poll() is not None:
                self.exited(service, now)
            elif service.process is None and service.restart_at is not None and now >= service.restart_at:
                self.start(service)

    def stop(self) -> None:
        self.stopping = True
        running = [s.process for s in self.services if s.process is not None and s.process.poll() is None]
        for process in running:
            process.terminate()
        for process in running:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()

    def run(self) -> int:
        def terminate(*_: object) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, terminate)
        signal.signal(signal.SIGINT, terminate)
        try:
            for service in self.services:
                self.start(service)
            while True:
                self.step()
                time.sleep(0.5)  # the supervisor's own pace, not a wait for a condition
        except KeyboardInterrupt:
            self.say("stopping")
            return 0
        finally:
            self.stop()


def parse(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.serve", description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--only", help=f"comma-separated services to supervise ({', '.join(SERVICES)})")
    mode.add_argument("--exec", dest="exec_service", choices=SERVICES,
                      help="run one service in the foreground, without supervision (for systemd)")
    parser.add_argument("--check", action="store_true", help="run the start-up checks and exit")
    args = parser.parse_args(argv)
    if args.exec_service:
        args.services = [args.exec_service]
    else:
        args.services = [s.strip() for s in (args.only or ",".join(SERVICES)).split(",") if s.strip()]
        unknown = sorted(set(args.services) - set(SERVICES))
        if unknown:
            parser.error(f"unknown service(s) {', '.join(unknown)}; known: {', '.join(SERVICES)}")
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse(argv)
    env = production_env()
    try:
        check(args.services, env)
    except NotReady as error:
        print(f"serve: not starting: {error}", file=sys.stderr, flush=True)
        return 2
    if args.check:
        print("serve: ready (model and migrations checked)", flush=True)
        return 0
    wanted = {name: command for name, command in commands(env).items() if name in args.services}
    os.chdir(REPO_ROOT)
    if args.exec_service:
        command = wanted[args.exec_service]
        os.execvpe(command[0], command, env)
    return Supervisor(wanted, env).run()


if __name__ == "__main__":
    sys.exit(main())
