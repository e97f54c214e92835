"""The operator's walk through the console in headless Chromium (Selenium), run by
ConsoleBrowserTests: sign in, find the poison record's group, open the row, preview its
replay, replay it, see it replayed, look an alert up by id; the jobs page too. Saves a
PNG of each page, at desktop and at phone width, into the folder given.

Arguments: console base URL, token, alert id, poison row id, screenshot folder.
Exits 0 when every step saw what it expected; otherwise prints the step and exits 1.
"""
import re
import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException

base, token, alert_id, row_id, shots = sys.argv[1:6]
os.makedirs(shots, exist_ok=True)

options = Options()
options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900"):
    options.add_argument(argument)
driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
driver.set_page_load_timeout(30)


def expect(condition, what, within=20):
    """Polls `condition` (a function) until it holds: a click's page may still be loading."""
    deadline = time.monotonic() + within
    while True:
        try:
            if condition():
                break
        except WebDriverException:
            pass
        if time.monotonic() > deadline:
            fail(what)
        time.sleep(0.1)
    print(f"ok: {what}")


def fail(what):
    print(f"FAILED: {what}\nat {driver.current_url}\n{driver.find_element(By.TAG_NAME, 'body').text[:2000]}", file=sys.stderr)
    driver.quit()
    sys.exit(1)


def shot(name):
    """A full-page PNG: the window grown to the page's height (at most 4000 px)."""
    width = driver.get_window_size()["width"]
    height = driver.execute_script("return Math.max(document.body.scrollHeight, 600)")
    driver.set_window_size(width, min(height + 120, 4000))
    path = os.path.join(shots, f"{name}.png")
    driver.save_screenshot(path)
    print(f"screenshot: {path}")


def text():
    return driver.find_element(By.TAG_NAME, "body").text


try:
    driver.get(base + "/console/dlq")
    expect(lambda: driver.current_url.endswith("/console/sign-in"), "signed out, the console asks to sign in")
    shot("01-sign-in")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "form[action='/console/sign-in'] button").click()
    expect(lambda: driver.current_url.endswith("/console/dlq"), "signing in opens the dead letters")
    expect(lambda: "undecodable" in driver.find_element(By.ID, "groups").text, "the poison record's group (undecodable) is listed")
    shot("02-dlq-groups")

    driver.find_element(By.LINK_TEXT, "undecodable").click()
    expect(lambda: f"#{row_id}" in driver.find_element(By.ID, "rows").text, "the group's rows list the poison record")
    shot("03-dlq-rows")

    driver.find_element(By.LINK_TEXT, f"#{row_id}").click()
    expect(lambda: "not json at all" in driver.find_element(By.ID, "value").text, "the row shows its value as text")
    expect(lambda: "pending" in driver.find_element(By.ID, "summary").text, "the row is pending")
    shot("04-dlq-row")

    driver.find_element(By.XPATH, "//button[contains(., 'Preview replay')]").click()
    expect(lambda: "Dry run: 1 of 1 row(s) would be republished" in driver.find_element(By.ID, "summary").text, "the dry run says what it would do")
    expect(lambda: "to topic" in driver.find_element(By.ID, "destinations").text, "the dry run says where")
    shot("05-replay-preview")

    driver.find_element(By.CSS_SELECTOR, "#confirm button[type=submit]").click()
    expect(lambda: "Replayed 1 of 1 row(s)" in driver.find_element(By.ID, "summary").text, "the replay reports the row replayed")
    shot("06-replay-result")

    driver.get(f"{base}/console/dlq/row?id={row_id}")
    expect(lambda: "replayed" in driver.find_element(By.ID, "summary").text, "the row is now replayed")
    expect(lambda: "replays of this row\n1\n" in driver.find_element(By.ID, "history").text, "its history counts the replay")
    shot("07-dlq-row-replayed")

    driver.get(base + "/console/lineage")
    driver.find_element(By.NAME, "alert_id").send_keys(alert_id)
    driver.find_element(By.XPATH, "//input[@name='alert_id']/ancestor::form//button").click()
    expect(lambda: alert_id in driver.find_element(By.ID, "alert").text, "the alert is found by its id")
    expect(lambda: driver.find_element(By.ID, "tick-id").text.strip() != "", "its tick is shown")
    expect(lambda: re.fullmatch(r"[0-9a-f]{32}", driver.find_element(By.ID, "trace-id").text.strip()) is not None, "the tick's W3C trace id is shown")
    shot("08-lineage")

    driver.get(base + "/console/jobs")
    expect(lambda: "event-reminder" in text() and "Run event-reminder now" in text(), "the jobs page lists the jobs with run buttons")
    shot("09-jobs")
    driver.find_element(By.LINK_TEXT, "Ask the broker for the consumer groups' lag").click()
    expect(lambda: "message(s) behind" in driver.find_element(By.ID, "lag").text, "the worker group's lag is shown")
    expect(lambda: "Asked of the broker at" in text(), "with the time the broker was asked")
    shot("09-jobs-lag")

    # A phone's width: the same pages still read.
    driver.set_window_size(390, 844)
    for name, path in (("10-phone-dlq-groups", "/console/dlq"), (f"11-phone-dlq-row", f"/console/dlq/row?id={row_id}"),
                       ("12-phone-jobs", "/console/jobs")):
        driver.get(base + path)
        driver.set_window_size(390, 844)
        shot(name)
    overflow = driver.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 1")
    expect(lambda: not overflow, "at phone width the page does not scroll sideways (wide tables scroll in their own box)")
finally:
    driver.quit()
