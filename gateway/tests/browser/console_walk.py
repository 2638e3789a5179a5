"""The console in a real Chromium, as a person uses it (driven by Playwright).

    python3 console_walk.py SCHOOL_URL WIJKTEAM_URL SHOTS_DIR

The school's IB'er logs in through the organisation's OpenID Connect provider (its login and
consent pages), fills in Nieuw signaal, records the first parent's consent and sees the refusal
that names the missing parent, records the second parent's consent, sees the convenant allow it,
and sends. The wijkcoach logs in to the wijkteam's console, finds the signal in Postvak, opens it
and acknowledges it; the IB'er then sees the receipt. Screenshots of every screen go to
SHOTS_DIR. Exits non-zero with the step that failed.
"""
import os
import re
import sys

from playwright.sync_api import expect, sync_playwright

SCHOOL, WIJKTEAM, SHOTS = sys.argv[1], sys.argv[2], sys.argv[3]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
TEXT = "Leerling komt al weken zonder ontbijt en met blauwe plekken op school."


PAGES = []


def shot(page, name):
    page.screenshot(path=os.path.join(SHOTS, name + ".png"), full_page=True)


def main():
    os.makedirs(SHOTS, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            walk(browser)
        except Exception:
            import traceback

            traceback.print_exc()
            for n, page in enumerate(PAGES):
                try:
                    shot(page, "failure-%d" % n)
                    print("--- page at failure:", page.url, file=sys.stderr)
                    print(page.content()[:6000], file=sys.stderr)
                except Exception:
                    pass
            sys.exit(1)
        browser.close()
    print("console_walk: ok")


def login(page, account):
    """Through the identity provider's login (and consent) pages back to the console."""
    page.goto(SCHOOL + "/login")
    page.get_by_role("link", name="Inloggen met uw account van de organisatie").click()
    page.locator("input[name=login]").fill(account)
    page.locator("input[name=password]").fill("any")
    page.locator("button[type=submit]").first.click()
    # The provider's consent page, when it asks.
    if not page.url.startswith(SCHOOL):
        page.locator("button[type=submit]").first.click()
    page.wait_for_url(SCHOOL + "/")


def record(errors, message):
    """Console errors on the consoles' own pages (not the identity provider's dev pages, and not
    the 422 a form with a problem is answered with)."""
    url = (message.location or {}).get("url", "")
    if message.type != "error" or not url.startswith((SCHOOL, WIJKTEAM)):
        return
    if "status of 422" in message.text:
        return
    errors.append("%s (%s)" % (message.text, url))


def walk(browser):
    if True:
        ib = browser.new_context(viewport={"width": 1100, "height": 900}, locale="nl-NL")
        page = ib.new_page()
        PAGES.append(page)
        errors = []
        page.on("console", lambda m: record(errors, m))

        # Log in at the organisation's identity provider.
        page.goto(SCHOOL + "/login")
        shot(page, "01-inloggen")
        login(page, "ib-jansen")
        expect(page.get_by_text("Ingrid Jansen")).to_be_visible()
        # The login cookie has done its work: the callback cleared it.
        left = [c["name"] for c in ib.cookies() if c["name"] == "signaal_login"]
        assert not left, "the login cookie outlived the login: %s" % left
        shot(page, "02-welkom")

        # Nieuw signaal, using labels as a screen reader user would.
        page.get_by_role("link", name="Nieuw signaal").first.click()
        page.get_by_label("BSN").fill("111222333")
        page.get_by_label("Leeftijd (jaren)").fill("9")
        page.get_by_label("Gezaghebbenden").fill("ouder-1, ouder-2")
        page.get_by_label("Ontvanger (sociale kaart)").select_option("00000009905000000000")
        page.get_by_label("Doel", exact=True).select_option("vroegtijdige_ondersteuning")
        page.get_by_label("Zorgen over de thuissituatie").check()
        page.get_by_label("Bericht", exact=True).fill(TEXT)
        # Without any consent the console says what is missing.
        page.get_by_role("button", name="Controleer").click()
        expect(page.locator("#beslissing")).to_contain_text("vink een vastgelegde toestemming aan")

        # The first parent's consent: recorded, and still refused, naming the other parent.
        page.get_by_label("ouder-1 (gezaghebbende)").check()
        page.get_by_label("Bewijs (kenmerk van het getekende formulier)").fill("formulier-2026-118")
        page.get_by_role("button", name="Toestemming vastleggen").click()
        expect(page.locator("#beslissing")).to_contain_text("Toestemming vastgelegd")
        expect(page.locator("#beslissing")).to_contain_text("Niet toegestaan door het convenant")
        expect(page.locator("#beslissing")).to_contain_text("ouder-2")
        shot(page, "03-nieuw-signaal-weigering")

        # The second parent's consent: allowed.
        page.get_by_label("ouder-2 (gezaghebbende)").check()
        page.get_by_role("button", name="Toestemming vastleggen").click()
        expect(page.locator("#beslissing")).to_contain_text("Toegestaan door het convenant")
        shot(page, "04-nieuw-signaal-toegestaan")

        # The answer follows the form without a click (console.js): health data is not covered.
        page.get_by_label("Gezondheidsgegevens, waaronder letsel").check()
        expect(page.locator("#beslissing")).to_contain_text("Niet toegestaan", timeout=10000)
        page.get_by_label("Gezondheidsgegevens, waaronder letsel").uncheck()
        expect(page.locator("#beslissing")).to_contain_text("Toegestaan door het convenant", timeout=10000)

        page.get_by_role("button", name="Versturen").click()
        expect(page.get_by_role("heading", name="Signaal")).to_be_visible()
        expect(page.locator("table")).to_contain_text("00000009905000000000")
        status_url = page.url
        shot(page, "05-status")

        # The wijkcoach.
        wk = browser.new_context(viewport={"width": 1100, "height": 900}, locale="nl-NL")
        w = wk.new_page()
        PAGES.append(w)
        w.on("console", lambda m: record(errors, m))
        w.goto(WIJKTEAM + "/login")
        w.get_by_role("button", name="Inloggen als dev-wijkteam", exact=True).click()
        w.get_by_role("link", name="Postvak").first.click()
        for _ in range(50):
            if w.get_by_role("link", name=re.compile("^Openen")).count() > 0:
                break
            w.wait_for_timeout(200)
            w.reload()
        shot(w, "06-postvak")
        w.get_by_role("link", name=re.compile("^Openen")).first.click()
        expect(w.locator("pre.message")).to_have_text(TEXT)
        expect(w.get_by_text("Handtekening van de afzender gecontroleerd.")).to_be_visible()
        shot(w, "07-postvak-geopend")
        w.get_by_role("button", name="Ontvangst bevestigen").click()
        expect(w.get_by_text(re.compile("Ontvangst bevestigd door"))).to_be_visible()

        # The IB'er sees the receipt.
        page.goto(status_url)
        expect(page.locator("table")).to_contain_text("ontvangst bevestigd")
        shot(page, "08-status-bevestigd")

        # Keyboard only: the skip link is the first stop and leads to the content.
        page.keyboard.press("Tab")
        expect(page.locator("a.skip")).to_be_focused()

        # English as a switch.
        page.get_by_role("button", name="English").click()
        expect(page.get_by_role("link", name="New signal").first).to_be_visible()
        page.get_by_role("button", name="Nederlands").click()

        # The school's FG answers the family's access request.
        fg = browser.new_context(viewport={"width": 1100, "height": 900}, locale="nl-NL")
        f = fg.new_page()
        PAGES.append(f)
        f.on("console", lambda m: record(errors, m))
        login(f, "fg-devries")
        f.get_by_role("link", name="Privacy (FG)").click()
        expect(f.get_by_text("Verstrekkingen van deze organisatie")).to_be_visible()
        f.get_by_label("BSN").fill("111222333")
        f.get_by_role("button", name="Rapport opvragen").click()
        expect(f.get_by_text(re.compile("elk bewijs klopt met het ondertekende checkpoint"))).to_be_visible()
        shot(f, "09-fg-inzage")
        with fg.expect_page() as opened:
            f.get_by_role("button", name="Brief voor het gezin (afdrukken)").click()
        letter = opened.value
        letter.wait_for_load_state()
        expect(letter.locator("body")).to_contain_text("welke gegevens zijn gedeeld")
        shot(letter, "10-fg-brief")

        if errors:
            raise RuntimeError("console errors in the browser: %s" % errors)


if __name__ == "__main__":
    main()
