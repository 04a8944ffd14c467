"""The chat on the demo PCN page, in headless Debian Chromium (Selenium).

Needs a running desk (fixture ``desk`` of tests/servers.py: action server,
Rasa with the trained model, web server) and /usr/bin/chromium +
/usr/bin/chromedriver (``scripts/setup.sh --browser``). On failure, a
screenshot and the page source are saved under tests/artifacts/.
"""
from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterator, List

import pytest


pytestmark = pytest.mark.e2e

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
REFERENCE = re.compile(r"PCN-\d{4}-\d{6}")
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
REPLY_TIMEOUT = 60

FLOWS = {
    "fr": {
        "path": "/",
        "question": "Faut-il une autorisation préalable pour une IRM en Allemagne ?",
        "legal": "Base légale",
        "human": "Parler à un agent",
        "email_prompt": "adresse e-mail",
        "consent_prompt": "Acceptez-vous",
        "too_long": "trop long",
    },
    "en": {
        "path": "/en/",
        "question": "Do I need prior authorisation for an MRI in Germany?",
        "legal": "Legal basis",
        "human": "Talk to an agent",
        "email_prompt": "e-mail address",
        "consent_prompt": "Do you agree",
        "too_long": "too long",
    },
}


# -- artifacts on failure (a hook object registered by the browser fixture) --------
class _SaveArtifactsOnFailure:
    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):  # noqa: ANN001
        outcome = yield
        report = outcome.get_result()
        driver = getattr(item, "_pcn_driver", None)
        if driver is None or not report.failed:
            return
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid.split("::", 1)[-1]) + f"-{report.when}"
        try:
            driver.save_screenshot(str(ARTIFACTS / f"{stem}.png"))
            (ARTIFACTS / f"{stem}.html").write_text(driver.page_source, encoding="utf-8")
            logs = driver.get_log("browser")
            (ARTIFACTS / f"{stem}.console.json").write_text(json.dumps(logs, indent=1), encoding="utf-8")
        except Exception as error:  # noqa: BLE001 - never hide the real failure
            (ARTIFACTS / f"{stem}.error.txt").write_text(repr(error), encoding="utf-8")


_HOOK = _SaveArtifactsOnFailure()


@pytest.fixture
def browser(request: pytest.FixtureRequest) -> Iterator["webdriver.Chrome"]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail("Chromium is missing: run `scripts/setup.sh --browser` (apt chromium chromium-driver)")
    manager = request.config.pluginmanager
    if not manager.is_registered(_HOOK):
        manager.register(_HOOK, "pcn-e2e-artifacts")
    profile = tempfile.mkdtemp(prefix="pcn-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", f"--user-data-dir={profile}", "--window-size=1280,900", "--lang=fr-FR",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    request.node._pcn_driver = driver
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


# -- helpers ---------------------------------------------------------------------------
def wait(driver, condition: Callable, timeout: float = REPLY_TIMEOUT, message: str = ""):
    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(condition, message)


def texts(driver, selector: str) -> List[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.textContent);", selector
    )


def bot_texts(driver) -> List[str]:
    return texts(driver, ".pcn-msg--bot .pcn-msg__text")


def busy(driver) -> bool:
    return driver.find_element(By.ID, "pcn-chat-log").get_attribute("aria-busy") == "true"


def act_and_wait(driver, action: Callable[[], None], selector: str = ".pcn-msg--bot") -> List[str]:
    """Runs action (a send), waits for the reply, returns the new bot texts."""
    before_bot = len(bot_texts(driver))
    before_notice = len(texts(driver, ".pcn-msg--notice"))
    action()
    wait(driver, lambda d: not busy(d) and (
        len(bot_texts(d)) > before_bot or len(texts(d, ".pcn-msg--notice")) > before_notice
    ), message="no reply from the assistant")
    notices = texts(driver, ".pcn-msg--notice")[before_notice:]
    assert not notices, f"error shown instead of a reply: {notices}"
    return bot_texts(driver)[before_bot:]


def type_message(driver, text: str) -> Callable[[], None]:
    def action() -> None:
        box = driver.find_element(By.ID, "pcn-chat-input")
        box.send_keys(text)
        box.send_keys(Keys.ENTER)
    return action


def choices(driver, payload: str) -> list:
    """The active choice buttons with this payload (payloads hold quotes: compared, not put in a selector)."""
    return [b for b in driver.find_elements(By.CSS_SELECTOR, ".pcn-choice:not([disabled])")
            if b.get_attribute("data-payload") == payload]


def click_choice(driver, payload: str) -> Callable[[], None]:
    def action() -> None:
        buttons = choices(driver, payload)
        assert buttons, f"no button with payload {payload}; bot said: {bot_texts(driver)[-2:]}"
        buttons[-1].click()
    return action


INSURED_IN_FRANCE = '/inform{"insured_country": "FR", "country": "FR"}'


def ask_question(driver, question: str) -> List[str]:
    """Types a question; answers "Where are you insured?" with France when it is asked. Returns the answer turn."""
    replies = act_and_wait(driver, type_message(driver, question))
    if choices(driver, INSURED_IN_FRANCE):
        replies = act_and_wait(driver, click_choice(driver, INSURED_IN_FRANCE))
    return replies


def answered(driver) -> bool:
    """The question got its answer, or the one question that comes before it."""
    return bool(driver.find_elements(By.CSS_SELECTOR, ".pcn-disclosure") or choices(driver, INSURED_IN_FRANCE))


def last_answer(driver):
    """The message of the last answer (the one with "More details" / "Sources")."""
    answers = driver.find_elements(By.CSS_SELECTOR, ".pcn-msg--bot:has(.pcn-disclosure)")
    assert answers, f"no answer with its disclosures; bot said: {bot_texts(driver)[-3:]}"
    return answers[-1]


def open_part(driver, part: str):
    """Opens "More details" or "Sources" of the last answer; returns the panel."""
    toggle = last_answer(driver).find_element(By.CSS_SELECTOR, f'.pcn-disclosure[data-part="{part}"]')
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    panel = driver.find_element(By.ID, toggle.get_attribute("aria-controls"))
    assert panel.is_displayed()
    return panel


def open_chat(driver, url: str) -> None:
    driver.get(url)
    launcher = wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".pcn-launcher"), 15)
    launcher.click()
    dialog = driver.find_element(By.ID, "pcn-chat-dialog")
    wait(driver, lambda d: dialog.is_displayed(), 5)
    assert driver.switch_to.active_element.get_attribute("id") == "pcn-chat-input", "focus not moved into the dialog"


def state(driver) -> dict:
    return driver.execute_script("return JSON.parse(sessionStorage.getItem('pcn-chat:v1'))")


def no_alert(driver) -> bool:
    try:
        driver.switch_to.alert  # noqa: B018 - the property raises when no alert is open
    except NoAlertPresentException:
        return True
    return False


# -- tests ----------------------------------------------------------------------------
@pytest.mark.parametrize("language", ["fr", "en"])
def test_question_answer_and_escalation_to_an_agent(desk, browser, language: str):  # noqa: F811
    flow = FLOWS[language]
    open_chat(browser, desk.web_url + flow["path"])
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == language

    # the privacy notice is visible, with a link
    privacy = browser.find_element(By.CSS_SELECTOR, ".pcn-privacy")
    assert privacy.is_displayed() and privacy.find_element(By.TAG_NAME, "a").get_attribute("href")

    ask_question(browser, flow["question"])
    sources = open_part(browser, "sources")
    assert flow["legal"] in sources.text
    links = sources.find_elements(By.TAG_NAME, "a")
    assert links, "the answer's official links are not rendered as links"
    for link in links:
        assert link.get_attribute("href").startswith("https://")
        assert link.get_attribute("target") == "_blank"
        assert "noopener" in link.get_attribute("rel")

    # the page language and channel reach Rasa as metadata
    sender = state(browser)["sender"]
    events = desk.tracker(sender)["events"]
    user_events = [e for e in events if e.get("event") == "user"]
    assert user_events and user_events[-1]["metadata"].get("language") == language
    assert user_events[-1]["metadata"].get("channel") == "web"

    # escalation: permanent button, confirm the question, consent, e-mail
    human = browser.find_element(By.CSS_SELECTOR, ".pcn-human")
    assert human.text == flow["human"]
    act_and_wait(browser, human.click)
    assert texts(browser, ".pcn-msg--user .pcn-msg__text")[-1].endswith(flow["human"])
    replies = act_and_wait(browser, click_choice(browser, "/affirm"))
    assert any(flow["consent_prompt"] in text for text in replies), replies
    replies = act_and_wait(browser, click_choice(browser, "/affirm"))
    assert any(flow["email_prompt"] in text for text in replies), replies
    replies = act_and_wait(browser, type_message(browser, f"patient.{language}@example.org"))
    match = REFERENCE.search("\n".join(replies))
    assert match, replies

    # the ticket is in the database
    import sqlalchemy as sa

    engine = sa.create_engine(desk.database_url, future=True)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                sa.text("SELECT language, contact_email FROM tickets WHERE reference = :r"), {"r": match.group(0)}
            ).one()
    finally:
        engine.dispose()
    assert row.language == language and row.contact_email == f"patient.{language}@example.org"

    # the conversation survives a reload
    before = texts(browser, ".pcn-msg__text")
    browser.refresh()
    wait(browser, lambda d: d.find_element(By.ID, "pcn-chat-dialog").is_displayed(), 15)
    assert texts(browser, ".pcn-msg__text") == before
    assert state(browser)["sender"] == sender


def test_html_in_a_message_is_displayed_as_text(desk, browser):  # noqa: F811
    open_chat(browser, desk.web_url + "/")
    act_and_wait(browser, type_message(browser, HOSTILE))
    assert texts(browser, ".pcn-msg--user .pcn-msg__text")[-1].endswith(HOSTILE)  # rendered: any alert fired
    assert no_alert(browser), "an alert fired"
    injected = browser.execute_script(
        "return document.querySelectorAll('#pcn-chat-log script, #pcn-chat-log img, [onerror]').length"
    )
    assert injected == 0

    # still text after a reload (rendered again from storage)
    browser.refresh()
    wait(browser, lambda d: d.find_element(By.ID, "pcn-chat-dialog").is_displayed(), 15)
    assert texts(browser, ".pcn-msg--user .pcn-msg__text")[-1].endswith(HOSTILE)
    assert browser.execute_script("return document.querySelectorAll('#pcn-chat-log img').length") == 0
    assert no_alert(browser)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_overlong_message_shows_the_limit(desk, browser, language: str):  # noqa: F811
    flow = FLOWS[language]
    open_chat(browser, desk.web_url + flow["path"])
    import urllib.request

    with urllib.request.urlopen(f"{desk.rasa_url}/webhooks/rest/limits", timeout=10) as response:
        limit = json.loads(response.read())["max_message_chars"]
    # the widget has read the limit from the server
    wait(browser, lambda d: f"/ {limit} " in d.find_element(By.ID, "pcn-chat-counter").text + " ", 10)
    box = browser.find_element(By.ID, "pcn-chat-input")
    # paste-like input of limit + 1 characters
    browser.execute_script(
        "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'));", box, "a" * (limit + 1)
    )
    assert box.get_attribute("aria-invalid") == "true"
    users_before = len(texts(browser, ".pcn-msg--user"))
    box.send_keys(Keys.ENTER)
    notices = wait(browser, lambda d: texts(d, ".pcn-msg--notice"), 5)
    assert flow["too_long"] in notices[-1] and str(limit) in notices[-1]
    assert len(texts(browser, ".pcn-msg--user")) == users_before, "an overlong message was sent"

    # the Rasa edge refuses it too (HTTP 413 with a bilingual message the widget can show)
    result = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        fetch(window.PCN_CONFIG.rasaUrl + '/webhooks/rest/webhook', {
          method: 'POST', headers: {'Content-Type': 'application/json'},
          body: JSON.stringify({sender: 'e2e-limit', message: 'b'.repeat(arguments[0] + 1),
                                metadata: {language: arguments[1], channel: 'web'}})
        }).then(r => r.json().then(body => done({status: r.status, body})))
          .catch(e => done({status: 0, body: String(e)}));
        """,
        limit, language,
    )
    assert result["status"] == 413, result
    assert "trop long" in result["body"][0]["text"] and "too long" in result["body"][0]["text"]


def test_keyboard_and_accessibility_basics(desk, browser):  # noqa: F811
    browser.get(desk.web_url + "/")
    launcher = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, ".pcn-launcher"), 15)
    assert launcher.get_attribute("aria-expanded") == "false"
    launcher.send_keys(Keys.ENTER)
    dialog = browser.find_element(By.ID, "pcn-chat-dialog")
    assert dialog.is_displayed() and dialog.get_attribute("role") == "dialog"
    title_id = dialog.get_attribute("aria-labelledby")
    assert browser.find_element(By.ID, title_id).text
    log = browser.find_element(By.ID, "pcn-chat-log")
    assert log.get_attribute("role") == "log" and log.get_attribute("aria-live") == "polite"
    box = browser.switch_to.active_element
    assert box.get_attribute("id") == "pcn-chat-input"
    label = browser.find_element(By.CSS_SELECTOR, 'label[for="pcn-chat-input"]')
    assert label.text
    # Escape closes and gives the focus back to the launcher
    box.send_keys(Keys.ESCAPE)
    assert not dialog.is_displayed()
    assert browser.switch_to.active_element.get_attribute("class") == "pcn-launcher"

    # every text of the open widget has a contrast ratio >= 4.5:1
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    failures = browser.execute_script(CONTRAST_AUDIT)
    assert failures == []


CONTRAST_AUDIT = """
function rgba(s) { const m = s.match(/[\\d.]+/g).map(Number); return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; }
function lum(c) { const v = c.slice(0, 3).map(x => { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
  return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; }
function background(el) { for (let e = el; e; e = e.parentElement) { const c = rgba(getComputedStyle(e).backgroundColor);
  if (c[3] > 0.99) return c; } return [255, 255, 255, 1]; }
const failures = [];
document.querySelectorAll('.pcn-chat *').forEach(el => {
  const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
  if (!own || !el.offsetParent || el.closest('.pcn-visually-hidden')) return;
  const style = getComputedStyle(el);
  const fg = rgba(style.color), bg = background(el);
  const l1 = lum(fg), l2 = lum(bg);
  const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
  if (ratio < 4.5) failures.push(el.className + ' "' + el.textContent.slice(0, 30) + '" ' + ratio.toFixed(2));
});
return failures;
"""


def test_network_error_is_shown_with_a_retry(desk, browser):  # noqa: F811
    open_chat(browser, desk.web_url + "/")
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1,
    })
    try:
        type_message(browser, FLOWS["fr"]["question"])()
        notices = wait(browser, lambda d: not busy(d) and texts(d, ".pcn-msg--notice"), 30)
        assert "injoignable" in notices[-1]
    finally:
        browser.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1,
        })
    users = texts(browser, ".pcn-msg--user")
    act_and_wait(browser, browser.find_element(By.CSS_SELECTOR, ".pcn-retry").click)
    assert answered(browser)
    assert texts(browser, ".pcn-msg--user") == users, "the retried message was shown twice"
    assert texts(browser, ".pcn-msg--notice") == [], "the error stays after a successful retry"


def test_typing_indicator_while_the_assistant_answers(desk, browser):  # noqa: F811
    open_chat(browser, desk.web_url + "/")
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {  # a slow mobile network
        "offline": False, "latency": 1500, "downloadThroughput": -1, "uploadThroughput": -1,
    })
    try:
        type_message(browser, FLOWS["fr"]["question"])()
        indicator = browser.find_element(By.CSS_SELECTOR, ".pcn-typing")
        wait(browser, lambda d: indicator.is_displayed(), 5, "no typing indicator while waiting")
        assert "écrit" in indicator.get_attribute("textContent") and indicator.get_attribute("role") == "status"
        wait(browser, lambda d: not busy(d) and answered(d), 30)
        assert not indicator.is_displayed(), "the indicator stays after the answer"
    finally:
        browser.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1,
        })


# -- the answer turn: its first line in view, details and sources opened in place -------------
VIEWPORTS = {"desktop": None, "phone-390": {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}}
# Care in Switzerland: the answer comes with its note, the longest kind of reply.
SECOND_QUESTION = {"fr": "Comment se faire rembourser des soins payés en Suisse ?",
                   "en": "I paid a doctor in Switzerland, how do I claim it back?"}

IN_VIEW = """
const item = arguments[0], log = document.getElementById('pcn-chat-log');
const box = log.getBoundingClientRect(), top = item.querySelector('.pcn-msg__text').getBoundingClientRect().top;
const line = parseFloat(getComputedStyle(item.querySelector('.pcn-msg__text')).lineHeight) || 24;
return {top: top - box.top, bottom: box.bottom - box.top, line: line,
        inView: top >= box.top - 1 && top + line <= box.bottom + 1};
"""


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_reply_opens_on_its_first_line_and_expands_in_place(desk, browser, language, viewport):  # noqa: F811
    if VIEWPORTS[viewport]:
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", VIEWPORTS[viewport])
    flow = FLOWS[language]
    open_chat(browser, desk.web_url + flow["path"])
    ask_question(browser, flow["question"])
    ask_question(browser, SECOND_QUESTION[language])  # a longer log: the reply must not land at its end

    answer = last_answer(browser)
    where = browser.execute_script(IN_VIEW, answer)
    assert where["inView"], f"the first line of the answer is out of view: {where}"
    # what a screen reader announces: the short answer, not the details and sources
    reply_text = browser.execute_script(
        "const items = Array.from(document.querySelectorAll('#pcn-chat-log .pcn-msg'));"
        "const i = items.indexOf(arguments[0]);"
        "return items.slice(i).map(e => e.innerText).join('\\n');", answer)
    assert len(reply_text) < 1000, len(reply_text)
    assert browser.execute_script(
        "return Array.from(arguments[0].querySelectorAll('.pcn-panel')).every(p => p.hidden)", answer)

    sender = state(browser)["sender"]
    users_before = len(texts(browser, ".pcn-msg--user"))
    events_before = len([e for e in desk.tracker(sender)["events"] if e.get("event") == "user"])
    details = open_part(browser, "details")
    stored = state(browser)["messages"]
    expected = next(m for m in reversed(stored) if m.get("answer"))["answer"]
    assert details.text.strip() and details.text.split()[:6] == expected["details"].split()[:6]
    toggle_top = browser.execute_script(
        "const t = arguments[0].querySelector('.pcn-disclosure[data-part=\"details\"]').getBoundingClientRect().top,"
        " b = document.getElementById('pcn-chat-log').getBoundingClientRect(); return t >= b.top && t < b.bottom;",
        answer)
    assert toggle_top, "opening the details moved its button out of view"
    sources = open_part(browser, "sources")
    assert flow["legal"] in sources.text and sources.find_elements(By.CSS_SELECTOR, "a[href^='https://']")
    # in place: nothing was sent
    assert len(texts(browser, ".pcn-msg--user")) == users_before
    assert len([e for e in desk.tracker(sender)["events"] if e.get("event") == "user"]) == events_before

    # the opened parts stay open after a reload, and close again
    browser.refresh()
    wait(browser, lambda d: d.find_element(By.ID, "pcn-chat-dialog").is_displayed(), 15)
    toggle = last_answer(browser).find_element(By.CSS_SELECTOR, '.pcn-disclosure[data-part="details"]')
    assert toggle.get_attribute("aria-expanded") == "true"
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not browser.find_element(By.ID, toggle.get_attribute("aria-controls")).is_displayed()


def test_an_english_answer_on_the_french_page_is_marked_english(desk, browser):  # noqa: F811
    open_chat(browser, desk.web_url + "/")
    ask_question(browser, FLOWS["en"]["question"])
    assert last_answer(browser).get_attribute("lang") == "en"
