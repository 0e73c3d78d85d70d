#!/usr/bin/env python3
"""Drive Airlock's web UI in Debian's Chromium with Playwright, as a reviewer would.

Usage: python browser_check.py URL EMAIL PASSWORD RUN SAMPLE EPOCH OUT_DIR

Signs in with the keyboard, opens the home page, the models, a version, the grants, the runs,
the run, its samples (and a search of them) and one transcript, the account page and its
second factor's set-up, runs axe-core on each page, saves a screenshot of each into OUT_DIR, then signs out. It
watches for anything the pages' content makes the browser do: a dialog (alert, confirm), a
request to another host, a script error, a refusal by the Content Security Policy.
Prints one JSON object. Needs playwright and axe-playwright-python (pinned in the Makefile).
"""
import json
import shutil
import sys
from urllib.parse import urlparse

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import sync_playwright


def main() -> None:
    if len(sys.argv) != 8:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    url, email, password, run, sample, epoch, out = sys.argv[1:]
    host = urlparse(url).netloc
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("browser_check: no chromium on PATH (make test installs Debian's)", file=sys.stderr)
        sys.exit(1)
    report = {"pages": {}, "dialogs": [], "foreign_requests": [], "page_errors": [], "console_errors": []}
    axe = Axe()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("dialog", lambda dialog: (report["dialogs"].append(dialog.message), dialog.dismiss()))
        page.on("pageerror", lambda error: report["page_errors"].append(str(error)))
        page.on("console", lambda message: message.type == "error" and report["console_errors"].append(message.text))
        page.on("request", lambda request: urlparse(request.url).netloc not in (host, "") and report["foreign_requests"].append(request.url))

        def check(name: str) -> None:
            page.wait_for_load_state("load")
            result = axe.run(page)
            serious = [v["id"] for v in result.response["violations"] if v.get("impact") in ("serious", "critical")]
            page.screenshot(path=f"{out}/{name}.png", full_page=True)
            report["pages"][name] = {"status": "ok", "title": page.title(), "serious_violations": serious,
                                     "violations": [v["id"] for v in result.response["violations"]]}

        page.goto(f"{url}/runs/{run}")
        report["redirected_to_sign_in"] = urlparse(page.url).path == "/sign-in"
        check("sign-in")
        # The keyboard alone: the first Tab reaches the skip link, then the form.
        page.keyboard.press("Tab")
        report["first_focus"] = page.evaluate("document.activeElement.textContent.trim()")
        page.focus("#email")
        page.keyboard.type(email)
        page.keyboard.press("Tab")
        page.keyboard.type(password)
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/runs/{run}")
        check("run")
        page.goto(f"{url}/")
        check("home")
        page.click("nav >> text=Models")
        check("models")
        page.click("table a[href^='/versions/']")
        check("version")
        page.click("nav >> text=Grants")
        check("grants")
        page.click("nav >> text=Runs")
        check("runs")
        page.goto(f"{url}/runs/{run}/samples")
        check("samples")
        # Full-text search from the keyboard: the model's words find its attempts.
        page.focus("#q")
        page.keyboard.type("alert script")
        page.keyboard.press("Enter")
        page.wait_for_url("**/samples?**")
        check("samples-search")
        report["search_rows"] = page.locator("tbody tr").count()
        page.click(f"a[href='/runs/{run}/samples/{sample}/{epoch}']")
        check("transcript")
        report["transcript_text"] = page.inner_text("ol.messages")
        report["scripts_on_transcript"] = page.evaluate("Array.from(document.scripts).map(s => new URL(s.src, location).pathname)")
        if page.locator("summary").count():
            page.locator("summary").first.click()
        page.click("header >> a[href='/account']")
        check("account")
        page.get_by_role("button", name="Set up a second factor").click()
        check("account-setup")
        page.get_by_role("button", name="Sign out", exact=True).click()
        page.wait_for_url("**/sign-in")
        page.goto(f"{url}/")
        report["signed_out"] = urlparse(page.url).path == "/sign-in"
        browser.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
