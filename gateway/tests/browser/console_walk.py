"""The console in a real Chromium, as a person uses it (driven by Playwright).

    python3 console_walk.py SCHOOL_URL WIJKTEAM_URL SHOTS_DIR VT_URL GI_URL CONSENT_ID POLITIE_URL

The school's IB'er logs in through the organisation's OpenID Connect provider (its login and
consent pages), fills in Nieuw signaal, records the first parent's consent and sees the refusal
that names the missing parent, records the second parent's consent, sees the convenant allow it,
and sends. The wijkcoach logs in to the wijkteam's console, finds the signal in Postvak, opens it
and acknowledges it; the IB'er then sees the receipt. Screenshots of every screen go to
SHOTS_DIR. Then the IB'er reports to Veilig Thuis under the meldcode; Veilig Thuis finds it and a
police zorgmelding in its Postvak and opens the zorgmelding; the triagist triages it, decides
against the advice with a reason, records the parents' consent and hands it over; the wijkcoach
opens the handover and takes it on, and Veilig Thuis sees the answer; Veilig Thuis records
that it investigates the school's report with a review date and asks the wijkteam for
information, the wijkcoach opens the question under Vragen van Veilig Thuis and answers, and
Veilig Thuis reads the answer on the melding's page; Veilig Thuis tells the
police what it did with the zorgmelding and the wijkagent reads it under Zorgmeldingen; the
wijkcoach and the GI record their involvement with a child on the parents' consent (CONSENT_ID),
share a case, the GI proposes the wijkteam as casusregisseur and the wijkcoach accepts, the GI
publishes a safety plan and both confirm it, the GI publishes a second version and looks at the
first, the wijkcoach ends the wijkteam's involvement and the GI reads its Berichten; the GI
registers an OTS in its Register and ends it, handing the case back to the wijkteam; the school's
FG reads the gateway's audit log. Exits non-zero with the step that failed.
"""
import os
import re
import sys

from playwright.sync_api import expect, sync_playwright

SCHOOL, WIJKTEAM, SHOTS, VT, GI, CONSENT, POLITIE = sys.argv[1:8]
VT_OIN, WIJKTEAM_OIN = "00000009906000000000", "00000009905000000000"
CHILD = "123456782"
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
    if message.type != "error" or not url.startswith((SCHOOL, WIJKTEAM, VT, GI, POLITIE)):
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
            f.get_by_role("button", name="Brief openen (afdrukken)").click()
        letter = opened.value
        letter.wait_for_load_state()
        expect(letter.locator("body")).to_contain_text("Wat is er gedeeld")
        shot(letter, "10-fg-brief")

        reported = meldcode(browser, page, errors)
        zorgmelding(browser, errors)
        triage(browser, errors)
        feedback(browser, page, reported, errors)
        follow_up(browser, errors)
        police_feedback(browser, errors)
        zaak(browser, errors)
        register(browser, errors)

        # The school's FG reads the gateway's own audit log, a page at a time.
        f.goto(SCHOOL + "/fg")
        f.get_by_role("link", name=re.compile("^Auditlog van deze gateway")).click()
        expect(f.get_by_role("heading", name="Auditlog van deze gateway")).to_be_visible()
        expect(f.locator("table")).to_contain_text("signaal verstuurd")
        expect(f.locator("table")).not_to_contain_text(CHILD)
        shot(f, "16-fg-auditlog")

        if errors:
            raise RuntimeError("console errors in the browser: %s" % errors)


def dev_login(browser, base, user, errors):
    """A new browser of a dev console, logged in as `user`."""
    ctx = browser.new_context(viewport={"width": 1100, "height": 900}, locale="nl-NL")
    page = ctx.new_page()
    PAGES.append(page)
    page.on("console", lambda m: record(errors, m))
    page.goto(base + "/login")
    page.get_by_role("button", name="Inloggen als " + user, exact=True).click()
    return page


def meldcode(browser, page, errors):
    """The IB'er reports to Veilig Thuis after the meldcode's steps; the convenant says yes first."""
    page.get_by_role("link", name="Meldcode").first.click()
    page.get_by_label("BSN").fill("111222333")
    page.get_by_label("Leeftijd (jaren)").fill("9")
    page.get_by_label("Gezaghebbenden").fill("ouder-1, ouder-2")
    page.get_by_label("Ontvanger (sociale kaart)").select_option(VT_OIN)
    page.get_by_label("Zorgen over de thuissituatie").check()
    for n in (1, 2, 3):
        page.get_by_label(re.compile("^Stap %d:" % n)).check()
    page.get_by_label("Structurele onveiligheid", exact=True).check()
    page.get_by_label("Nee", exact=True).check()
    page.get_by_label("Zo nee, waarom niet").select_option("veiligheid_kind")
    page.get_by_label("Bericht", exact=True).fill("Leerling vertelt dat vader thuis slaat; blauwe plekken op de armen.")
    # Step 4 not taken: the convenant says no.
    page.get_by_role("button", name="Controleer").click()
    expect(page.locator("#beslissing")).to_contain_text("Niet toegestaan door het convenant")
    page.get_by_label(re.compile("^Stap 4:")).check()
    page.get_by_role("button", name="Controleer").click()
    expect(page.locator("#beslissing")).to_contain_text("Toegestaan door het convenant")
    shot(page, "11-meldcode")
    page.get_by_role("button", name="Versturen").click()
    expect(page.locator("table")).to_contain_text(VT_OIN)
    return page.url


def zorgmelding(browser, errors):
    """Veilig Thuis: the report and the police's zorgmelding in the Postvak; the melding opened."""
    v = dev_login(browser, VT, "dev-veilig-thuis", errors)
    v.get_by_role("link", name="Postvak").first.click()
    for _ in range(50):
        if v.get_by_text("2026-OOST-000123").count() > 0 and v.get_by_role("link", name=re.compile("^Openen sig-")).count() > 0:
            break
        v.wait_for_timeout(200)
        v.reload()
    expect(v.get_by_role("heading", name="Zorgmeldingen van de politie")).to_be_visible()
    shot(v, "12-postvak-veilig-thuis")
    v.get_by_role("link", name="Openen 2026-OOST-000123").click()
    expect(v.locator("pre.message").first).to_contain_text("buren belden 112")
    expect(v.get_by_text("Handtekening van de politie gecontroleerd.").first).to_be_visible()
    shot(v, "13-zorgmelding")


def triage(browser, errors):
    """Veilig Thuis triages the zorgmelding, decides, hands it over; the wijkteam takes it on."""
    v = dev_login(browser, VT, "dev-veilig-thuis", errors)
    v.get_by_role("link", name="Postvak").first.click()
    v.get_by_role("link", name="Triage 2026-OOST-000123").click()
    for label, answer in (
        ("1. Lichamelijke mishandeling of ernstig geweld", "nee"),
        ("2. Seksueel misbruik", "nee"),
        ("3. Huiselijk geweld waar kinderen getuige van zijn", "ja"),
        ("4. Conflict over de veiligheid van de kinderen", "nee"),
        ("5. Staan de ouders open voor hulp?", "open"),
        ("6a. Stapeling van meldingen (ook die de hub niet kent)", "nee"),
        ("6b. Wederzijdse beschuldigingen", "nee"),
        ("6c. Verslaving", "nee"),
    ):
        v.get_by_label(label, exact=True).select_option(answer)
    v.get_by_label("Dossiernummer van Veilig Thuis").fill("VT-2026-0042")
    v.locator("#triage-role").select_option("triagist")
    v.get_by_role("button", name="Triage vastleggen").click()
    expect(v.locator(".notice strong").first).to_contain_text("Advies: samen optrekken")
    shot(v, "17-triage")
    # The triagist judges it a single incident: the wijkteam alone, against the advice.
    v.get_by_label("Het wijkteam pakt het alleen op").check()
    v.get_by_label("Reden, als het besluit afwijkt van het advies").select_option(label="eenmalig incident, geen patroon")
    v.locator("#decision-role").select_option("triagist")
    v.get_by_role("button", name="Besluit vastleggen").click()
    expect(v.get_by_text("afwijkend van het advies")).to_be_visible()
    shot(v, "18-besluit")
    # The handover: the wijkteam, the child, the parents' consent recorded here, the contacts.
    v.get_by_role("link", name="Overdragen aan het wijkteam").click()
    v.get_by_label("Ontvanger (sociale kaart)").select_option(WIJKTEAM_OIN)
    v.get_by_label("Ik handel als").select_option("vt_medewerker")
    v.get_by_label(re.compile("^BSN's")).fill(CHILD)
    v.get_by_label(re.compile("^Leeftijd van het kind")).fill("6")
    v.get_by_label(re.compile("^Gezaghebbenden")).fill("ouder-1, ouder-2")
    v.get_by_label("Incident: tijd, plaats, aard, registratienummer").check()
    v.get_by_label("Of er kinderen aanwezig waren").check()
    v.get_by_role("button", name="Toestemmingen ophalen").click()
    v.get_by_label("ouder-1 (gezaghebbende)").check()
    v.get_by_label("ouder-2 (gezaghebbende)").check()
    v.get_by_label("Bewijs (kenmerk van het getekende formulier)").fill("VT-formulier-0042")
    v.get_by_role("button", name="Toestemming vastleggen").click()
    v.locator("input[name=consent]").first.check()
    v.locator("#vt_name").fill("Rianne van Rooijen")
    v.locator("#vt_function").fill("medewerker Veilig Thuis")
    v.locator("#vt_phone").fill("0800-2000")
    v.locator("#wt_name").fill("Els Bouwman")
    v.locator("#wt_function").fill("wijkcoach")
    v.locator("#wt_phone").fill("026-0000002")
    shot(v, "19-overdragen")
    v.get_by_role("button", name="Overdragen", exact=True).click()
    expect(v.get_by_text("verstuurd, nog niet opgehaald door het wijkteam")).to_be_visible()
    handover_url = v.url
    v.get_by_role("link", name="Brief voor het gezin (afdrukken)").click()
    expect(v.locator("body")).to_contain_text("Els Bouwman")
    shot(v, "20-overdracht-brief")
    # The wijkcoach opens it (delivered, opened in the wijkteam's gateway) and takes it on.
    w = dev_login(browser, WIJKTEAM, "dev-wijkteam", errors)
    w.get_by_role("link", name="Postvak").first.click()
    w.get_by_role("link", name=re.compile("^Openen ho-")).click()
    expect(w.get_by_text("Handtekening van Veilig Thuis gecontroleerd.").first).to_be_visible()
    expect(w.get_by_text("Nee: het wijkteam gaat alleen.")).to_be_visible()
    shot(w, "21-overdracht-wijkteam")
    w.get_by_label(re.compile("^BSN's van wie u overneemt")).fill(CHILD)
    w.get_by_label("Hoe collega's de wijkcoach bereiken").fill("Els Bouwman, 026-0000002")
    w.get_by_role("button", name="Overnemen", exact=True).click()
    expect(w.locator("table")).to_contain_text("overgenomen")
    # Veilig Thuis sees who has the case now.
    v.goto(handover_url)
    expect(v.locator("table")).to_contain_text("overgenomen")
    v.get_by_role("link", name="Postvak").first.click()
    expect(v.get_by_role("heading", name="Overdrachten aan het wijkteam")).to_be_visible()
    shot(v, "22-overdrachten-veilig-thuis")


def feedback(browser, page, reported, errors):
    """Veilig Thuis tells the school what it does with its meldcode report; the IB'er reads it
    on the report's status page, the note opened in the school's gateway."""
    v = dev_login(browser, VT, "dev-veilig-thuis", errors)
    v.get_by_role("link", name="Postvak").first.click()
    v.get_by_role("link", name=re.compile("^Triage sig-")).click()
    expect(v.get_by_role("heading", name="Terugkoppeling aan de melder")).to_be_visible()
    v.get_by_label("Veilig Thuis doet zelf onderzoek").check()
    v.locator("#fb-case").fill("VT-2026-0077")
    v.get_by_role("group", name="Weet het gezin van de melding?").get_by_label("Ja", exact=True).check()
    v.get_by_label("Bericht aan de melder (niet verplicht)").fill(
        "Dank voor uw melding. Wij onderzoeken de situatie zelf en bellen u als wij u nodig hebben.")
    if v.locator("#feedback-role").count() > 0:
        v.locator("#feedback-role").select_option("vt_medewerker")
    v.locator("#fb-note").focus()
    shot(v, "23-terugkoppeling")
    v.get_by_role("button", name="Terugkoppeling versturen").click()
    expect(v.locator("section[aria-labelledby=terugkoppeling] table")).to_contain_text("Veilig Thuis doet zelf onderzoek")
    page.goto(reported)
    expect(page.get_by_role("heading", name="Terugkoppeling van Veilig Thuis")).to_be_visible()
    expect(page.locator("blockquote")).to_contain_text("Wij onderzoeken de situatie zelf")
    shot(page, "24-terugkoppeling-melder")


def follow_up(browser, errors):
    """Veilig Thuis records the school's report's stage with a review date and asks the wijkteam
    for information; the wijkcoach opens the question (sealed to the wijkteam) and answers;
    Veilig Thuis reads the answer, opened in its gateway."""
    import datetime

    review = (datetime.date.today() + datetime.timedelta(days=14)).isoformat()
    v = dev_login(browser, VT, "dev-veilig-thuis", errors)
    v.get_by_role("link", name="Postvak").first.click()
    v.get_by_role("link", name=re.compile("^Triage sig-")).click()
    melding = v.url
    expect(v.get_by_role("heading", name="Fase")).to_be_visible()
    v.get_by_label("Onderzoek door Veilig Thuis zelf").check()
    v.get_by_label("Volgende herbeoordeling (datum)").fill(review)
    v.locator("#stage-role").select_option("vt_medewerker")
    v.get_by_role("button", name="Fase vastleggen").click()
    expect(v.locator("section[aria-labelledby=fase] table")).to_contain_text("gepland")
    expect(v.locator("section[aria-labelledby=fase]")).to_contain_text("in beoordeling")
    v.locator("#fase").scroll_into_view_if_needed()
    shot(v, "28-fase")
    v.get_by_label("Organisatie (sociale kaart)").select_option(WIJKTEAM_OIN)
    v.get_by_role("group", name="Waar vraagt u om").get_by_label(re.compile("^Zorgen over de thuissituatie")).check()
    v.locator("#iv-case").fill("VT-2026-0077")
    v.locator("#iv-informed-ja").check()
    v.get_by_label("Uw vraag").fill("Is het gezin bij u bekend? Hoe gaat het met Jayden thuis?")
    v.locator("#iv-role").select_option("vt_medewerker")
    v.get_by_role("button", name="Informatie vragen").click()
    expect(v.locator("section[aria-labelledby=informatie] table")).to_contain_text("open: nog niet beantwoord")
    expect(v.locator("section[aria-labelledby=informatie] table")).to_contain_text("Wijkteam")
    shot(v, "29-informatie-vragen")
    # The wijkcoach: the question, never the melding; opened here and answered.
    w = dev_login(browser, WIJKTEAM, "dev-wijkteam", errors)
    w.get_by_role("link", name="Vragen van Veilig Thuis").first.click()
    expect(w.locator("table")).to_contain_text("VT-2026-0077")
    expect(w.locator("main")).not_to_contain_text("Hoe gaat het met Jayden")
    shot(w, "30-vragen-van-veilig-thuis")
    w.get_by_role("link", name=re.compile("^Openen en beantwoorden")).click()
    expect(w.locator("blockquote")).to_contain_text("Hoe gaat het met Jayden thuis?")
    expect(w.get_by_text("Handtekening van Veilig Thuis geverifieerd.")).to_be_visible()
    w.get_by_label(re.compile("^Zorgen over de thuissituatie")).check()
    w.get_by_label("Uw antwoord").fill(
        "Het gezin is sinds maart bij ons bekend; moeder vraagt hulp bij de opvoeding. Geen letsel gezien.")
    shot(w, "31-vraag-beantwoorden")
    w.get_by_role("button", name="Antwoord versturen").click()
    expect(w.locator("dl.meta")).to_contain_text("beantwoord")
    # Veilig Thuis reads the answer on the melding's page.
    v.goto(melding)
    expect(v.locator("section[aria-labelledby=informatie] blockquote")).to_contain_text("moeder vraagt hulp")
    v.locator("#informatie").scroll_into_view_if_needed()
    shot(v, "32-informatie-antwoord")
    # Veilig Thuis's overview: the report in onderzoek, its review planned; filtered by stage.
    v.get_by_role("link", name="Meldingen", exact=True).first.click()
    expect(v.get_by_role("heading", name="Meldingen", exact=True)).to_be_visible()
    expect(v.locator("main table")).to_contain_text("Onderzoek")
    v.get_by_label("Fase", exact=True).select_option("ONDERZOEK")
    v.get_by_role("button", name="Tonen").click()
    expect(v.locator("main table")).to_contain_text("Onderzoek")
    shot(v, "34-meldingen")


def police_feedback(browser, errors):
    """Veilig Thuis tells the police it handed the zorgmelding over; the wijkagent looks the
    zorgmelding up by its registration number and reads the note, opened in the police's gateway."""
    v = dev_login(browser, VT, "dev-veilig-thuis", errors)
    v.get_by_role("link", name="Postvak").first.click()
    v.get_by_role("link", name="Triage 2026-OOST-000123").click()
    v.get_by_label("Overgedragen aan het wijkteam").check()
    v.locator("#fb-case").fill("VT-2026-0042")
    v.get_by_role("group", name="Weet het gezin van de melding?").get_by_label("Ja", exact=True).check()
    v.get_by_label("Bericht aan de melder (niet verplicht)").fill(
        "Het wijkteam heeft het gezin overgenomen; de wijkcoach gaat deze week op huisbezoek.")
    if v.locator("#feedback-role").count() > 0:
        v.locator("#feedback-role").select_option("vt_medewerker")
    v.get_by_role("button", name="Terugkoppeling versturen").click()
    expect(v.locator("section[aria-labelledby=terugkoppeling] table")).to_contain_text("Overgedragen aan het wijkteam")
    p = dev_login(browser, POLITIE, "dev-politie", errors)
    p.get_by_role("link", name="Zorgmeldingen").first.click()
    p.get_by_label("Registratienummer van het incident").fill("2026-OOST-000123")
    p.get_by_role("button", name="Terugkoppeling bekijken").click()
    expect(p.get_by_role("heading", name="Terugkoppeling van Veilig Thuis")).to_be_visible()
    expect(p.locator("blockquote")).to_contain_text("de wijkcoach gaat deze week op huisbezoek")
    shot(p, "25-politie-terugkoppeling")


def involve(p, contact):
    """On Maatregel?: the child's consents, then the involvement on the parents' consent."""
    p.get_by_role("link", name="Maatregel?").first.click()
    p.get_by_label("BSN").fill(CHILD)
    p.get_by_role("button", name="Zaken van dit kind").click()
    p.get_by_label("Hoe collega's u bereiken").fill(contact)
    p.get_by_label(re.compile(CONSENT)).check()
    p.get_by_role("button", name="Betrokkenheid vastleggen").click()
    expect(p.get_by_text("Uw betrokkenheid is vastgelegd.")).to_be_visible()


def zaak(browser, errors):
    """The wijkcoach and the GI share a case: coordinator and safety plan."""
    w = dev_login(browser, WIJKTEAM, "dev-wijkteam", errors)
    g = dev_login(browser, GI, "dev-jeugdbescherming", errors)
    involve(w, "Germaine K., wijkcoach, 026-0000002")
    involve(g, "Jeugdbeschermer, 026-1234567")
    g.get_by_role("link", name=re.compile("^zaak ")).click()
    expect(g.get_by_role("heading", name="Betrokkenen")).to_be_visible()
    # The GI proposes the wijkteam; the wijkcoach accepts.
    g.get_by_label("Voorstellen als casusregisseur").select_option(WIJKTEAM_OIN)
    g.get_by_role("button", name="Voorstellen", exact=True).click()
    expect(g.get_by_text(re.compile("Wacht nog op: Wijkteam"))).to_be_visible()
    case_path = g.url[len(GI):]
    w.get_by_role("button", name="Zaken van dit kind").click()
    expect(w.get_by_role("heading", name="Zaken van dit kind")).to_be_visible()
    shot(w, "14-maatregel-zaken")
    w.get_by_role("link", name=re.compile("^Zaak ")).click()
    w.get_by_role("button", name="Aanvaarden").click()
    expect(w.get_by_text(re.compile("Casusregisseur:"))).to_be_visible()
    # The GI writes the safety plan, sealed in its gateway to both parties.
    g.goto(GI + case_path)
    g.get_by_text("Nieuwe versie van het plan opstellen").click()
    g.get_by_label("Titel").fill("Veiligheidsplan gezin")
    g.get_by_label("Waar het plan voor is").fill("Iedereen is thuis veilig")
    g.get_by_label("Wie het gezin belt als het misgaat").fill("de wijkcoach, 026-0000002")
    g.locator("#who1").fill("Vader")
    g.locator("#what1").fill("neemt een time-out bij ruzie en gaat naar zijn broer")
    g.locator("#when1").fill("vanaf vandaag")
    g.locator("#family1").check()
    g.locator("#who2").fill("De wijkcoach")
    g.locator("#what2").fill("komt elke week op huisbezoek")
    g.locator("#party2").select_option(WIJKTEAM_OIN)
    g.locator("#who3").fill("De jeugdbeschermer")
    g.locator("#what3").fill("belt moeder elke twee weken")
    g.locator("#party3").select_option("00000009907000000000")
    g.get_by_label(re.compile("^Toestemming voor casusafstemming")).fill(CONSENT)
    g.get_by_role("button", name="Plan versturen").click()
    expect(g.get_by_text("Handtekening van de opsteller gecontroleerd.")).to_be_visible()
    g.get_by_role("button", name="Onze afspraken bevestigen").click()
    w.goto(WIJKTEAM + case_path)
    w.get_by_role("button", name="Onze afspraken bevestigen").click()
    expect(w.get_by_text("door iedereen bevestigd", exact=True)).to_be_visible()
    shot(w, "15-zaak")
    # The GI publishes a second version; the first stays readable behind Eerdere versies.
    g.goto(GI + case_path)
    g.get_by_text("Nieuwe versie van het plan opstellen").click()
    g.get_by_label("Titel").fill("Veiligheidsplan gezin, na het eerste huisbezoek")
    g.locator("#who1").fill("Vader")
    g.locator("#what1").fill("volgt de cursus omgaan met boosheid")
    g.locator("#family1").check()
    g.locator("#who2").fill("De wijkcoach")
    g.locator("#what2").fill("komt om de week op huisbezoek")
    g.locator("#party2").select_option(WIJKTEAM_OIN)
    g.get_by_label(re.compile("^Toestemming voor casusafstemming")).fill(CONSENT)
    g.get_by_role("button", name="Plan versturen").click()
    expect(g.get_by_text("volgt de cursus omgaan met boosheid")).to_be_visible()
    g.get_by_role("link", name="Versie 1", exact=True).click()
    expect(g.get_by_text("Dit is een eerdere versie")).to_be_visible()
    expect(g.get_by_text("belt moeder elke twee weken")).to_be_visible()
    shot(g, "26-plan-eerdere-versie")
    # The wijkcoach ends the wijkteam's involvement; the GI reads it under Berichten.
    w.goto(WIJKTEAM + case_path)
    w.get_by_text("Onze betrokkenheid beëindigen").click()
    w.get_by_role("button", name="Betrokkenheid beëindigen").click()
    expect(w.get_by_role("heading", name="Betrokkenheid beëindigd")).to_be_visible()
    g.get_by_role("link", name="Berichten").first.click()
    expect(g.locator("table")).to_contain_text("Betrokkenheid beëindigd")
    expect(g.locator("table")).to_contain_text("Afspraken van het veiligheidsplan bevestigd")
    shot(g, "27-berichten")


def register(browser, errors):
    """The GI's own register: an OTS for the child, listed, then ended with the case handed back."""
    g = dev_login(browser, GI, "dev-jeugdbescherming", errors)
    g.get_by_role("link", name="Register", exact=True).first.click()
    form = g.locator("form", has=g.get_by_role("button", name="Registreren"))
    form.get_by_label("BSN").fill(CHILD)
    form.get_by_label("Soort maatregel").select_option("ots")
    form.get_by_label(re.compile("^Contactpunt")).fill("Team Jeugdbescherming Arnhem, 026-1234567")
    form.get_by_role("button", name="Registreren").click()
    expect(g.get_by_text(re.compile("^Geregistreerd: Ondertoezichtstelling"))).to_be_visible()
    expect(g.locator("table")).to_contain_text("Loopt")
    shot(g, "33-register")
    g.get_by_role("button", name=re.compile("^Beëindigen")).first.click()
    g.get_by_label("Wie heeft de zaak hierna").select_option(WIJKTEAM_OIN)
    g.get_by_role("button", name="Ja, beëindigen").click()
    expect(g.get_by_text("De maatregel is beëindigd", exact=False)).to_be_visible()
    expect(g.locator("table")).to_contain_text("Beëindigd")


if __name__ == "__main__":
    main()
