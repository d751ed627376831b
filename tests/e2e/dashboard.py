#!/usr/bin/python3
"""dashboard.py: the dashboard in headless Chromium (selenium).

Loads RM_DASHBOARD_URL, checks one card per service with a drawn chart, the
history table against /api/v1/history, no CSP or script errors, a phone-width
layout without horizontal scrolling and the dark preference; saves
screenshots to $RM_TEST_OUTPUT; then (unless RM_DASHBOARD_APPROVE=0) enters
RM_DASHBOARD_TOKEN in the page's token form and clicks Approve on the first
pending decision, and checks that it is gone from the page and from the API.

Environment:
  RM_DASHBOARD_URL      the page, e.g. http://127.0.0.1:8000/ (required)
  RM_DASHBOARD_TOKEN    the bearer token (web.admin_token_file's content)
  RM_DASHBOARD_APPROVE  0: do not click Approve (a daemon with real containers)
  RM_DASHBOARD_REQUIRE_PENDING  1: fail when nothing waits for approval
  RM_TEST_OUTPUT        where screenshots go (default /tmp)
Run with /usr/bin/python3 (Debian's python3-selenium)."""
import json
import os
import sys
import time
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

URL = os.environ["RM_DASHBOARD_URL"]
TOKEN = os.environ.get("RM_DASHBOARD_TOKEN", "")
APPROVE = os.environ.get("RM_DASHBOARD_APPROVE", "1") != "0"
REQUIRE_PENDING = os.environ.get("RM_DASHBOARD_REQUIRE_PENDING", "0") == "1"
OUT = os.path.join(os.environ.get("RM_TEST_OUTPUT", "/tmp"), "dashboard")
os.makedirs(OUT, exist_ok=True)

failures = []


def check(name, ok, detail=""):
    print(("ok: " if ok else "FAIL: ") + name + ("" if ok else ": " + str(detail)))
    if not ok:
        failures.append(name)


def api(path):
    req = urllib.request.Request(urllib.parse.urljoin(URL, path))
    if TOKEN:
        req.add_header("Authorization", "Bearer " + TOKEN)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--window-size=1280,1800"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def wait(driver, what, cond, timeout=15):
    try:
        return WebDriverWait(driver, timeout).until(lambda d: cond(d))
    except TimeoutException:
        check(what, False, "timed out after %d s" % timeout)
        return None


def chart_drawn(driver, canvas):
    """Chart.js owns the canvas, holds the points and painted something."""
    return driver.execute_script(
        """
        const c = arguments[0];
        const ch = (typeof Chart !== 'undefined') && Chart.getChart(c);
        if (!ch || c.width === 0 || c.height === 0) return null;
        const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let painted = 0;
        for (let i = 3; i < px.length; i += 4) if (px[i] > 0) painted++;
        return {points: ch.data.datasets[0].data.length, painted: painted};
        """,
        canvas,
    )


def console_errors(driver):
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def main():
    status = api("/api/v1/status")
    history = api("/api/v1/history?limit=50")
    driver = browser()
    try:
        driver.get(URL)
        wait(driver, "page loaded its data",
             lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == "true")

        # Rows: one card per service, with its name, limits and decision.
        cards = driver.find_elements(By.CSS_SELECTOR, "#services article.service")
        check("one card per service", len(cards) == len(status["services"]),
              "%d cards, %d services" % (len(cards), len(status["services"])))
        names = [c.find_element(By.CSS_SELECTOR, ".name").text for c in cards]
        check("service names shown", names == [s["name"] for s in status["services"]], names)
        for card, svc in zip(cards, status["services"]):
            cpu = card.find_element(By.CSS_SELECTOR, ".cpu").text
            check("%s: CPU line" % svc["name"], cpu != "" and ("%" in cpu or "unknown" in cpu), cpu)
            check("%s: class badge" % svc["name"],
                  card.find_element(By.CSS_SELECTOR, ".class").text == svc["class"])
            # The watch after a change (adjustment.verify_window) and its tally.
            badge = card.find_element(By.CSS_SELECTOR, ".watch")
            check("%s: watch badge" % svc["name"],
                  badge.is_displayed() == bool(svc.get("watch"))
                  and (not svc.get("watch") or badge.text.startswith("verifying until")),
                  badge.text)
            verified = card.find_element(By.CSS_SELECTOR, ".verified").text
            c = svc["counters"]
            check("%s: verified line" % svc["name"],
                  verified == "%d passed their watch, %d reverted"
                  % (c["verified_changes"], c["reverts"]), verified)
            # Charts: Chart.js drew the recent checks.
            drawn = chart_drawn(driver, card.find_element(By.CSS_SELECTOR, "canvas.chart"))
            check("%s: chart drawn" % svc["name"],
                  # A live daemon adds a point per check between the API read
                  # and the page's own refresh: allow a few.
                  drawn is not None and drawn["points"] > 0
                  and abs(drawn["points"] - len(svc["points"]["time"])) <= 10
                  and drawn["painted"] > 500, drawn)

        # Recommendations: a row per service that has one, sorted by the CPU
        # it could give back, the fleet total last; a click sorts by memory.
        recs = [x for x in status["services"] if x.get("recommendation")]
        if recs:
            def reclaim(x, key):
                r = x["recommendation"][key]
                return (x[key]["limit"] or 0) - (r["limit"] or 0) if r and x[key]["limit"] else 0
            rows = driver.find_elements(By.CSS_SELECTOR, "#recommendations tbody tr")
            shown = [r.get_attribute("data-service") for r in rows]
            want = [x["name"] for x in sorted(recs, key=lambda x: (-reclaim(x, "cpu"), x["name"]))]
            check("recommendations sorted by reclaimable CPU", shown == want, (shown, want))
            foot = driver.find_element(By.CSS_SELECTOR, "#recommendations tfoot").text
            check("fleet total row", foot.startswith("fleet"), foot)
            fleet = driver.find_element(By.ID, "fleet").text
            check("fleet line", "recommended" in fleet and "Fleet" in fleet, fleet)
            # A script click: the header may sit under a banner on a narrow
            # window, which a real click would hit instead.
            button = driver.find_element(By.CSS_SELECTOR, "#recommendations button[data-key=memory]")
            driver.execute_script("arguments[0].scrollIntoView(); arguments[0].click();", button)
            want = [x["name"] for x in sorted(recs, key=lambda x: (-reclaim(x, "memory"), x["name"]))]
            wait(driver, "recommendations sorted by reclaimable memory",
                 lambda d: [r.get_attribute("data-service") for r in
                            d.find_elements(By.CSS_SELECTOR, "#recommendations tbody tr")] == want)
            check("recommendations re-sorted by memory", True)
            for card, svc in zip(cards, status["services"]):
                text = card.find_element(By.CSS_SELECTOR, ".recommended").text
                has = bool(svc.get("recommendation"))
                check("%s: recommended line" % svc["name"],
                      ("cores [" in text) if has else ("no recommendation" in text), text)

        # History: the newest events, as the API lists them.
        rows = driver.find_elements(By.CSS_SELECTOR, "#history tbody tr")
        check("history rows", len(rows) == len(history["events"]),
              "%d rows, %d events" % (len(rows), len(history["events"])))
        if rows and history["events"]:
            first = rows[0].find_elements(By.TAG_NAME, "td")
            check("history newest first", first[1].text == (history["events"][0]["service"] or ""),
                  first[1].text)
        deployments = [e for e in history["events"] if e["kind"] == "deployment"]
        if deployments:
            text = driver.find_element(By.CSS_SELECTOR, "#history tbody tr.deployment").text
            check("deployment row shows its strategy", (deployments[0]["strategy"] or "") in text,
                  text)

        pending = driver.find_elements(By.CSS_SELECTOR, "#pending article.pending-card")
        check("pending approvals listed", len(pending) == status["pending_approvals"],
              "%d cards, %d pending" % (len(pending), status["pending_approvals"]))
        errs = console_errors(driver)
        check("no console errors (CSP, scripts)", not errs, errs)
        driver.save_screenshot(os.path.join(OUT, "dashboard.png"))

        # Dark preference.
        light_bg = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                               {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
        time.sleep(0.5)
        dark_bg = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
        check("dark preference changes the colours", light_bg != dark_bg, (light_bg, dark_bg))
        driver.save_screenshot(os.path.join(OUT, "dashboard-dark.png"))
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})

        # Phone width: nothing wider than the screen but the history table's scroller.
        driver.set_window_size(390, 1600)
        time.sleep(0.5)
        over = driver.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth")
        check("phone width: no horizontal scrolling", over <= 1, "%d px too wide" % over)
        driver.save_screenshot(os.path.join(OUT, "dashboard-phone.png"))
        driver.set_window_size(1280, 1800)

        # Approve the first pending decision through the page.
        if not pending:
            check("something waits for approval", not REQUIRE_PENDING, "no pending card")
            print("note: nothing waits for approval; approve click not exercised")
        elif APPROVE:
            # The page re-renders on refresh: find the card again.
            service = driver.find_element(By.CSS_SELECTOR, "#pending article.pending-card"
                                          ).get_attribute("data-service")
            if TOKEN:
                driver.find_element(By.CSS_SELECTOR, "#auth summary").click()
                driver.find_element(By.ID, "token").send_keys(TOKEN)
                driver.find_element(By.CSS_SELECTOR, "#token-form button[type=submit]").click()
            driver.find_element(By.CSS_SELECTOR,
                                "#pending article[data-service='%s'] button.approve" % service
                                ).click()
            msg = wait(driver, "approve answered",
                       lambda d: d.find_element(By.ID, "message").is_displayed()
                       and "approve" in d.find_element(By.ID, "message").text
                       and d.find_element(By.ID, "message"))
            if msg:
                check("approve accepted", "refused" not in msg.text and "failed" not in msg.text,
                      msg.text)
            wait(driver, "pending card gone",
                 lambda d: not d.find_elements(
                     By.CSS_SELECTOR, "#pending article[data-service='%s']" % service))
            after = api("/api/v1/services/" + urllib.parse.quote(service))
            check("API: no longer pending", after["pending"] is None, after["pending"])
            driver.save_screenshot(os.path.join(OUT, "dashboard-approved.png"))
        errs = console_errors(driver)
        check("no console errors after the click", not errs, errs)
    finally:
        driver.quit()
    print("screenshots in " + OUT)
    if failures:
        print("dashboard: %d failed: %s" % (len(failures), ", ".join(failures)))
        return 1
    print("dashboard: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
