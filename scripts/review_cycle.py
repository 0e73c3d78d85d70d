#!/usr/bin/env python3
"""A review cycle clicked through in Debian's Chromium by four organisations, with Playwright.

Usage: python review_cycle.py PHASE URL OUT_DIR SETUP_JSON

SETUP_JSON names each organisation's account ({"office": [email, password], "lab": ...,
"evaluator": ..., "bank": ...}) and the objects made for it ("grant", and for the review phase
"run" and "sample").

Phase `grants`: the office approves the grant and the lab consents to it, each from its own
browser, after its home page says the grant waits for it.
Phase `review`: the evaluator finds the model's output by searching the run's samples, opens
its transcript and files a finding from it (a flaw in the bank's system, scored with the CVSS
calculator); the office opens a case on it and triages it; the bank, told on its home page,
states that it fixed the flaw; the office publishes the case after reading who will receive it
and verifies the audit log's chain.

Each organisation has its own browser context (its own cookies). Every page runs axe-core
(serious and critical violations are reported), and a screenshot of each is saved. Dialogs,
script errors, console errors and requests to other hosts are reported too. Prints one JSON
object. Needs playwright and axe-playwright-python (pinned in the Makefile).
"""
import json
import shutil
import sys
from urllib.parse import urlparse

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import sync_playwright


def main() -> None:
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    phase, url, out, setup_text = sys.argv[1:]
    setup = json.loads(setup_text)
    host = urlparse(url).netloc
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("review_cycle: no chromium on PATH (make test installs Debian's)", file=sys.stderr)
        sys.exit(1)
    report = {"pages": {}, "dialogs": [], "foreign_requests": [], "page_errors": [], "console_errors": [], "steps": []}
    axe = Axe()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])

        def organisation(name: str):
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.on("dialog", lambda dialog: (report["dialogs"].append(dialog.message), dialog.dismiss()))
            page.on("pageerror", lambda error: report["page_errors"].append(f"{name}: {error}"))
            page.on("console", lambda message: message.type == "error" and report["console_errors"].append(f"{name}: {message.text}"))
            page.on("request", lambda request: urlparse(request.url).netloc not in (host, "")
                    and report["foreign_requests"].append(request.url))
            email, password = setup[name]
            page.goto(f"{url}/sign-in")
            page.fill("#email", email)
            page.fill("#password", password)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{url}/")
            return page

        def check(page, name: str) -> None:
            page.wait_for_load_state("load")
            result = axe.run(page)
            serious = [v["id"] for v in result.response["violations"] if v.get("impact") in ("serious", "critical")]
            page.screenshot(path=f"{out}/{name}.png", full_page=True)
            report["pages"][name] = {"title": page.title(), "serious_violations": serious}

        def step(text: str) -> None:
            report["steps"].append(text)

        grant = setup["grant"]
        if phase == "grants":
            office = organisation("office")
            lab = organisation("lab")
            report["office_home_waits"] = "Grants waiting for a decision" in office.content()
            report["lab_home_waits"] = grant in lab.inner_text("main")
            office.click("nav >> text=Grants")
            check(office, "cycle-office-grants")
            office.locator(f"form[action='/grants/{grant}/approval'] button").click()
            office.wait_for_url("**/grants")
            step("office approved")
            lab.click("nav >> text=Grants")
            lab.locator(f"form[action='/grants/{grant}/consent'] button").click()
            lab.wait_for_url("**/grants")
            check(lab, "cycle-lab-grants")
            step("lab consented")
            report["grant_status"] = lab.locator("tbody tr", has_text=grant).locator("td").nth(4).inner_text()
        elif phase == "review":
            run, sample = setup["run"], setup["sample"]
            evaluator = organisation("evaluator")
            evaluator.click("nav >> text=Runs")
            evaluator.click(f"a[href='/runs/{run}']")
            evaluator.click("text=Samples and transcripts")
            evaluator.fill("#q", "ledger")
            evaluator.keyboard.press("Enter")
            evaluator.wait_for_url("**/samples?**")
            check(evaluator, "cycle-evaluator-search")
            evaluator.click(f"a[href='/runs/{run}/samples/{sample}/1']")
            evaluator.click("text=File a finding from this attempt")
            evaluator.wait_for_url("**/findings/new?**")
            evaluator.select_option("#kind", "third_party_vulnerability")
            evaluator.fill("#title", "Ledger accepts unsigned transfers")
            evaluator.fill("#description", "The transfer endpoint skips the signature check.")
            evaluator.fill("#evidence", "The model's answer describes the bypass.")
            evaluator.fill("#vendor", "Bank")
            evaluator.fill("#product", "Core ledger")
            evaluator.fill("#affected", "4.2")
            evaluator.select_option("#vendor_organisation", label="Bank")
            for metric, value in [("AV", "N"), ("AC", "L"), ("PR", "N"), ("UI", "N"), ("S", "U"), ("C", "H"), ("I", "H"), ("A", "N")]:
                evaluator.select_option(f"#cvss_{metric}", value)
            evaluator.get_by_role("button", name="Calculate the score").click()
            evaluator.wait_for_load_state("load")
            report["score"] = evaluator.inner_text(".score")
            check(evaluator, "cycle-evaluator-finding-form")
            evaluator.get_by_role("button", name="File the finding").click()
            evaluator.wait_for_url("**/findings/fnd_*")
            finding = urlparse(evaluator.url).path.rsplit("/", 1)[1]
            check(evaluator, "cycle-evaluator-finding")
            step("evaluator filed " + finding)

            office = organisation("office")
            office.click("nav >> text=Findings")
            office.click(f"a[href='/findings/{finding}']")
            office.get_by_role("button", name="Open the case").click()
            office.wait_for_url("**/cases/cas_*")
            case = urlparse(office.url).path.rsplit("/", 1)[1]
            report["triage_preview"] = office.locator("h2:has-text('Triage') + p").inner_text()
            check(office, "cycle-office-case")
            office.get_by_role("button", name="Mark as triaged").click()
            office.wait_for_url(f"**/cases/{case}")
            step("office triaged " + case)

            bank = organisation("bank")
            report["bank_home"] = bank.inner_text("main")
            bank.click(f"a[href='/cases/{case}']")
            bank.select_option("#status", "fixed")
            bank.fill("#fixed_version", "4.3")
            bank.fill("#notes", "Fixed in 4.3: the signature is checked first.")
            bank.get_by_role("button", name="Record the status").click()
            bank.wait_for_url(f"**/cases/{case}")
            check(bank, "cycle-bank-case")
            report["bank_statement"] = bank.locator("h2:has-text('Vendor statements') + table").inner_text()
            step("bank stated fixed")

            office.reload()
            report["publication_preview"] = office.locator("h2:has-text('Publish') + p").inner_text()
            office.fill("#early_release_reason", "The bank fixed it and asks for publication.")
            office.check("input[name=confirm]")
            office.get_by_role("button", name="Publish the case").click()
            office.wait_for_url(f"**/cases/{case}")
            report["published_state"] = office.locator("dl.facts dd").first.inner_text()
            check(office, "cycle-office-published")
            office.goto(f"{url}/audit?verify=1")
            report["audit_verdict"] = office.inner_text("[role=status]")
            check(office, "cycle-office-audit")
            step("office published and verified the audit log")
        else:
            print(f"review_cycle: unknown phase {phase}", file=sys.stderr)
            sys.exit(2)
        browser.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
