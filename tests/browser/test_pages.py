"""The QA and administration pages in a real browser (headless Chromium over WebDriver).

Builds nothing: drives the binary at ``$VITRINE_BIN`` (default ``target/release/vitrine``)
on a fresh SQLite database in a temporary folder: domain ``ulb`` (zmets and zmods on)
holding the shared sample corpus (``../shared/corpus/samples``), one validator run, an
admin and a QA user, then ``vitrine serve --bind 127.0.0.1:0``. A person logs in, reads
the QA page, filters, follows example and ``diag=true`` links, starts a run and reads
its report, logs out; the QA user is refused the admin pages. Screenshots of every page
go to ``target/browser-screenshots/`` (at 1280 px and at phone width).
"""

import os
import re
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from lxml import etree
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("VITRINE_TEST_CORPUS", REPO.parent / "shared" / "corpus"))
SHOTS = REPO / "target" / "browser-screenshots"
ADMIN, QA, PASSWORD = "ada", "quinn", "a long test password"
VD = "urn:vitrine:diagnostics:1"

CONFIG = """
[domains.ulb]
repository_name = "ULB browser test"
admin_emails = ["digital@ulb.example.org"]
repository_identifier = "digital.ulb.example.org"
record_identifier_source = "DE-3"
presentation_url = "https://viewer.example.org/{id}"
reference_url = "https://opac.example.org/{id}"
[domains.ulb.oai.formats.zmets]
on = true
[domains.ulb.oai.formats.zmods]
on = true
[domains.ulb.institution]
name = "Example Library"
logo = "https://example.org/logo.png"
site_url = "https://example.org"
contact = "digital@example.org"
"""


def binary() -> Path:
    path = Path(os.environ.get("VITRINE_BIN", REPO / "target" / "release" / "vitrine"))
    if not path.is_absolute():
        path = (Path.cwd() / path).resolve()
    if not path.is_file():
        pytest.fail(f"vitrine binary not found at {path}; build it or set VITRINE_BIN", pytrace=False)
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    work = tmp_path_factory.mktemp("browser")
    (work / "vitrine.toml").write_text(CONFIG)
    db = work / "vitrine.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VITRINE_")}
    env["VITRINE_LOG"] = "warn"
    base = [str(binary()), "--config", str(work / "vitrine.toml"), "--database", f"sqlite://{db}"]

    def vitrine(*args, stdin=None, check=True):
        proc = subprocess.run([*base, *args], input=stdin, capture_output=True, text=True, env=env, cwd=work, timeout=600)
        if check and proc.returncode != 0:
            pytest.fail(f"vitrine {' '.join(args)} exited {proc.returncode}: {proc.stderr[-3000:]}", pytrace=False)
        return proc

    vitrine("domain", "add", "ulb", "--name", "ULB")
    vitrine("domain", "add", "zd", "--parent", "ulb", "--name", "Zeitungen")
    # Some samples are no METS records of their own (bare MODS, OAI-PMH responses, files
    # without an identifier); the import refuses those and takes the rest.
    imported = vitrine("import", "--domain", "ulb", "--release", str(CORPUS / "samples"), check=False)
    created = re.search(r"(\d+) created", imported.stdout)
    assert created and int(created.group(1)) >= 10, imported.stdout + imported.stderr
    vitrine("job", "run", "oai-output-validator", "--domain", "ulb", check=False)
    vitrine("user", "add", ADMIN, "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    vitrine("user", "add", QA, "--role", "qa", "--domain", "ulb", "--password-stdin", stdin=PASSWORD + "\n")
    server = subprocess.Popen([*base, "serve", "--bind", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True, env=env, cwd=work)
    line = server.stdout.readline()
    match = re.search(r"http://[\d.]+:\d+", line)
    assert match, f"no address in {line!r}"
    yield {"url": match.group(0), "db": db}
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()


@pytest.fixture()
def browser():
    SHOTS.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000", "--lang=en-US"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
    driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
    driver.implicitly_wait(2)
    yield driver
    driver.quit()


def shot(driver, name):
    """Saves the whole page at 1280 px and at phone width."""
    for width, suffix in ((1280, ""), (390, "-phone")):
        driver.set_window_size(width, 1000)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, min(max(height, 600), 6000))
        driver.save_screenshot(str(SHOTS / f"{name}{suffix}.png"))
    driver.set_window_size(1280, 1000)


def login(driver, url, name):
    driver.get(url + "/ulb/qa/oaivalidator")
    assert "/login" in driver.current_url
    driver.find_element(By.NAME, "username").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form.stack button[type=submit]").click()
    WebDriverWait(driver, 10).until(lambda d: "/qa/oaivalidator" in d.current_url)


def number(text):
    return int(text.strip().replace(",", "").replace(".", ""))


def test_a_qa_session_from_login_to_logout(site, browser):
    url = site["url"]
    browser.get(url + "/login")
    shot(browser, "01-login")
    login(browser, url, ADMIN)
    shot(browser, "02-qa-page")

    # The counts per state are the database's.
    with sqlite3.connect(site["db"]) as db:
        stored = dict(db.execute("SELECT zmods_validation, COUNT(*) FROM record WHERE deleted = 0 GROUP BY zmods_validation"))
    assert sum(stored.values()) > 0
    for state in ("undefined", "invalid", "valid_warn", "valid"):
        cell = browser.find_element(By.CSS_SELECTOR, f"#state-counts tr[data-state={state}] td.records")
        assert number(cell.text) == stored.get(state, 0), state

    # Filter by a rule that has an unrepaired example.
    red = browser.find_elements(By.CSS_SELECTOR, "#rule-table a.unrepaired")
    assert red, "an unrepaired example"
    rule = red[0].find_element(By.XPATH, "ancestor::tr[1]").get_attribute("data-rule")
    Select(browser.find_element(By.NAME, "rule")).select_by_value(rule)
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda d: "rule=" in d.current_url)
    rows = browser.find_elements(By.CSS_SELECTOR, "#rule-table tbody tr")
    assert [r.get_attribute("data-rule") for r in rows] == [rule]
    shot(browser, "03-qa-filtered")

    # A red example: the finding is unrepaired on the record page.
    link = browser.find_element(By.CSS_SELECTOR, "#rule-table a.unrepaired")
    assert link.text.startswith("✗")
    link.click()
    WebDriverWait(browser, 10).until(lambda d: "/qa/records/" in d.current_url)
    assert browser.find_elements(By.CSS_SELECTOR, f"#before tr[data-rule='{rule}'][data-repaired=false]")
    assert browser.find_elements(By.CSS_SELECTOR, f"#after tr[data-rule='{rule}']")
    shot(browser, "04-record-unrepaired")

    # A green example: its repair is listed.
    browser.get(url + "/ulb/qa/oaivalidator")
    green = browser.find_elements(By.CSS_SELECTOR, "#rule-table a.repaired")
    assert green, "a repaired example"
    green_rule = green[0].find_element(By.XPATH, "ancestor::tr[1]").get_attribute("data-rule")
    assert green[0].text.startswith("✓")
    green[0].click()
    WebDriverWait(browser, 10).until(lambda d: "/qa/records/" in d.current_url)
    assert browser.find_elements(By.CSS_SELECTOR, f"#before tr[data-rule='{green_rule}'][data-repaired=true]")
    assert browser.find_elements(By.CSS_SELECTOR, "#repairs tr.repair")
    shot(browser, "05-record-repaired")

    # A sample's diag=true link: the same findings in the OAI-PMH response.
    browser.get(url + "/ulb/qa/oaivalidator")
    diag = browser.find_elements(By.CSS_SELECTOR, "ul.samples a.diag")
    assert diag, "an exported sample"
    record_href = diag[0].find_element(By.XPATH, "preceding-sibling::a[@class='record'][1]").get_attribute("href")
    response = requests.get(diag[0].get_attribute("href"), timeout=30)
    oai = etree.fromstring(response.content)
    in_oai = sorted(oai.xpath("//vd:before/vd:finding/@rule", namespaces={"vd": VD}))
    diag[0].click()
    time.sleep(0.5)
    shot(browser, "06-diag")
    browser.get(record_href)
    on_page = sorted(r.get_attribute("data-rule") for r in browser.find_elements(By.CSS_SELECTOR, "#before tr.finding"))
    assert on_page == in_oai

    # Start a run, watch it finish, read its report.
    browser.get(url + "/ulb/admin/jobs")
    shot(browser, "07-jobs")
    browser.find_element(By.CSS_SELECTOR, "input[name=full][value=true]").click()
    browser.find_element(By.ID, "start-run").click()
    WebDriverWait(browser, 10).until(lambda d: "started=" in d.current_url)
    run_id = browser.current_url.rsplit("=", 1)[1]
    shot(browser, "08-jobs-running")

    def finished(d):
        d.get(url + "/ulb/admin/jobs")
        row = d.find_element(By.CSS_SELECTOR, f"#runs tr[data-run='{run_id}'] .badge")
        return row.text != "running"

    WebDriverWait(browser, 300, poll_frequency=1).until(finished)
    browser.find_element(By.CSS_SELECTOR, f"#runs tr[data-run='{run_id}'] a").click()
    WebDriverWait(browser, 10).until(lambda d: "/admin/jobreport/" in d.current_url)
    assert browser.find_element(By.ID, "status").text == "finished"
    assert browser.find_element(By.ID, "started-by").text == f"user:{ADMIN}"
    assert browser.find_elements(By.CSS_SELECTOR, "#report-rules tbody tr")
    shot(browser, "09-report")

    # Log out.
    browser.find_element(By.CSS_SELECTOR, "form.logout button").click()
    WebDriverWait(browser, 10).until(lambda d: "/login" in d.current_url)
    browser.get(url + "/ulb/qa/oaivalidator")
    assert "/login" in browser.current_url


def test_a_qa_user_is_refused_the_admin_pages(site, browser):
    url = site["url"]
    login(browser, url, QA)
    browser.get(url + "/ulb/admin/jobs")
    assert "(403)" in browser.find_element(By.TAG_NAME, "h1").text
    assert requests.get(url + "/ulb/admin/jobs", allow_redirects=False, timeout=10).status_code == 303
    shot(browser, "10-qa-403")
    browser.get(url + "/")
    shot(browser, "00-home")
