"""The console's login in a real browser (headless Chromium): it survives a reload, and a
logout or a deactivation ends it for good (the signed cookie is refused then).

The console runs as `make run` starts it (bot/launcher.py, dashboard/serve.py) on a
temporary SQLite database. Failed on the code before issue 12 (a reload logged out).
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from bot.launcher import processes
from core.settings import REPO_ROOT, environment
from tests.servers import free_port

pytestmark = pytest.mark.e2e
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
PW = "a long enough password"


@pytest.fixture
def console(tmp_path, monkeypatch):
    from db import migrate
    from db.repositories import users
    from db.session import dispose_engine

    url = f"sqlite:///{tmp_path / 'desk.db'}"
    migrate.upgrade(url)
    monkeypatch.setenv("PCN_DATABASE_URL", url)
    users.create_user("alice", PW, "agent", "Alice Agent")
    port = free_port()
    env = {**environment(), "PCN_DATABASE_URL": url, "PCN_DASHBOARD_PORT": str(port), "PCN_DEMO": "0"}
    log = open(tmp_path / "dashboard.log", "w")
    process = subprocess.Popen(processes(env)["dashboard"], cwd=REPO_ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    yield f"http://127.0.0.1:{port}/"
    process.terminate()
    process.wait(20)
    dispose_engine(url)


@pytest.fixture
def browser():
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail("Chromium is missing: run `scripts/setup.sh --browser` (apt chromium chromium-driver)")
    profile = tempfile.mkdtemp(prefix="pcn-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 f"--user-data-dir={profile}", "--window-size=1280,900", "--lang=fr-FR"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(driver, url: str) -> None:
    deadline = time.monotonic() + 60
    while True:  # the console may still be starting
        try:
            driver.get(url)
            return
        except Exception:  # noqa: BLE001
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def shows(driver, text: str, timeout: float = 30) -> bool:
    try:
        WebDriverWait(driver, timeout).until(lambda d: text in d.find_element(By.TAG_NAME, "body").text)
        return True
    except Exception:  # noqa: BLE001
        return False


def sign_in(driver) -> None:
    assert shows(driver, "Connexion", 60)
    driver.find_element(By.CSS_SELECTOR, 'input[aria-label="Identifiant"]').send_keys("alice")
    driver.find_element(By.CSS_SELECTOR, 'input[aria-label="Mot de passe"]').send_keys(PW)
    next(b for b in driver.find_elements(By.TAG_NAME, "button") if "Se connecter" in b.text).click()
    assert shows(driver, "File des tickets")


def test_the_login_survives_a_reload_and_ends_at_logout_or_deactivation(console, browser):
    from db.repositories import users

    open_page(browser, console)
    sign_in(browser)
    assert shows(browser, "File des tickets")
    # the cookie is written by a component once the page has rendered
    cookie = WebDriverWait(browser, 15).until(lambda d: d.get_cookie("pcn_desk_session"))
    assert cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    browser.refresh()
    assert shows(browser, "File des tickets"), "a reload must keep the agent signed in"
    assert not shows(browser, "Connexion", 2)

    next(b for b in browser.find_elements(By.TAG_NAME, "button") if "Se déconnecter" in b.text).click()
    assert shows(browser, "Connexion")
    browser.refresh()
    assert shows(browser, "Connexion") and not shows(browser, "File des tickets", 3)

    sign_in(browser)
    users.set_active("alice", False)
    browser.refresh()
    assert shows(browser, "Connexion") and not shows(browser, "File des tickets", 3)
