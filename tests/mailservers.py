"""Real mail servers for the tests: an SMTP sink (aiosmtpd) and a Dovecot IMAP server.

``smtp_sink``: aiosmtpd on a free loopback port, set as the desk's outgoing
``PCN_SMTP_HOST``/``PCN_SMTP_PORT``; ``wait_for(n)`` polls until n messages arrived.

``dovecot``: Debian's ``dovecot`` (package ``dovecot-imapd``, installed by the
README's test command) started in the foreground on a free loopback port with
a throwaway configuration (one user, plain login over loopback, Maildir in a
temporary folder); skipped when the binary is missing, unless ``CI`` is set.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, List

import pytest

from tests import waiting
from tests.servers import free_port  # noqa: F401 - the mail tests' free ports, as the desk's


def wait_until(condition: Callable[[], object], timeout: float = 20.0, interval: float = 0.05):
    """Poll ``condition`` until it returns something truthy (returned), or fail at the deadline."""
    return waiting.wait_until(condition, timeout, "a mail server", interval)


@dataclass
class Sink:
    port: int
    messages: List[tuple] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def wait_for(self, n: int, timeout: float = 20.0) -> List[tuple]:
        wait_until(lambda: len(self.messages) >= n, timeout)
        return self.messages


@pytest.fixture
def smtp_sink(monkeypatch):
    from aiosmtpd.controller import Controller

    sink = Sink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    monkeypatch.setenv("PCN_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PCN_SMTP_PORT", str(sink.port))
    monkeypatch.setenv("PCN_SMTP_FROM", "pcn-test@cleiss.example")
    monkeypatch.delenv("PCN_SMTP_STARTTLS", raising=False)
    monkeypatch.delenv("PCN_SMTP_USER", raising=False)
    yield sink
    controller.stop()


@dataclass
class Dovecot:
    port: int
    user: str
    password: str
    folder: Path
    process: subprocess.Popen

    def append(self, raw: bytes, mailbox: str = "INBOX") -> None:
        """Deliver a message into the mailbox the way a mail server would (IMAP APPEND)."""
        import imaplib

        with imaplib.IMAP4("127.0.0.1", self.port) as imap:
            imap.login(self.user, self.password)
            imap.append(mailbox, None, None, raw)

    def unseen(self, mailbox: str = "INBOX") -> int:
        import imaplib

        with imaplib.IMAP4("127.0.0.1", self.port) as imap:
            imap.login(self.user, self.password)
            imap.select(mailbox)
            _, data = imap.search(None, "UNSEEN")
            return len(data[0].split())


_CONF = """
base_dir = {folder}/run
state_dir = {folder}/state
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {folder}/dovecot.log
info_log_path = {folder}/dovecot.log
default_login_user = {login_user}
default_internal_user = {login_user}
default_internal_group = {login_group}
first_valid_uid = 0
mail_location = maildir:{folder}/mail/%u
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service auth {{
  user = {me}
}}
service auth-worker {{
  user = {me}
}}
service imap-login {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={folder}/home/%u
}}
"""


def dovecot_binary():
    return shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)


@contextlib.contextmanager
def start_dovecot() -> Iterator[Dovecot]:
    """A throwaway Dovecot on a free loopback port (also used by bench/bench_mail.py)."""
    import grp
    import pwd
    import tempfile

    binary = dovecot_binary()
    if binary is None:
        raise FileNotFoundError("dovecot")
    me = pwd.getpwuid(os.getuid())
    # Dovecot never gives a mailbox to root: as root, the mail belongs to "nobody", in a folder it can enter.
    owner = pwd.getpwnam("nobody") if os.getuid() == 0 else me
    folder = Path(tempfile.mkdtemp(prefix="pcn-dovecot-"))
    os.chmod(folder, 0o755)
    for sub in ("run", "state", "mail", "home"):
        (folder / sub).mkdir()
    for sub in ("mail", "home"):
        os.chown(folder / sub, owner.pw_uid, owner.pw_gid)
    port = free_port()
    login_user = next(u for u in ("dovenull", "nobody") if _user_exists(u)) if os.getuid() == 0 else me.pw_name
    conf = folder / "dovecot.conf"
    conf.write_text(_CONF.format(folder=folder, port=port, uid=owner.pw_uid, gid=owner.pw_gid, login_user=login_user,
                                 me=me.pw_name, login_group=grp.getgrgid(os.getgid()).gr_name))
    (folder / "users").write_text("pcn:{PLAIN}mailbox-secret\n")
    process = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def ready():
        if process.poll() is not None:
            log = (folder / "dovecot.log").read_text() if (folder / "dovecot.log").exists() else ""
            raise AssertionError(f"dovecot exited ({process.returncode}):\n{log[-3000:]}")
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    try:
        wait_until(ready, timeout=20)
        yield Dovecot(port=port, user="pcn", password="mailbox-secret", folder=folder, process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def dovecot():
    if dovecot_binary() is None:
        message = "dovecot is not installed (apt-get install dovecot-imapd; the README's test command does it)"
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(message)
        pytest.skip(message)
    with start_dovecot() as server:
        yield server


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False
