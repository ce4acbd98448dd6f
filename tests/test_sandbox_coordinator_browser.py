"""The sandbox's coordinator in headless Chromium: Karin sees her programme's figures,
Astrid finds Mikael in the directory and asks Karin to get in touch.

Everything here comes from the sandbox's seed (`bot.sandbox.seed`): nobody configures
a programme first. Fixtures and `Pane` are the ones of `tests.test_sandbox_browser`.
"""

from __future__ import annotations

import re
from typing import Any

from tests.test_sandbox_browser import (  # noqa: F401 (fixtures pytest finds by name)
    Pane,
    page,
    pytestmark,
    sandbox,
)


async def test_the_coordinator_sees_stats_and_receives_a_contact_request(
    page: Any,  # noqa: F811 (the imported fixture, by name)
) -> None:
    from playwright.async_api import expect

    karin, astrid = Pane(page, "Karin"), Pane(page, "Astrid")
    await karin.expect("Mentorprogrammet 2027. Prova /stats")

    # /stats: the figures, then the chart as a picture that really loaded, then the CSV.
    await karin.send("/stats")
    figures = await karin.expect("Programmet i siffror")
    await expect(figures).to_contain_text("Program: Mentorprogrammet 2027")
    await expect(figures).to_contain_text("Avslutade: 10")
    chart = (await karin.expect("Mentorparen över tid")).locator("img.photo")
    await chart.scroll_into_view_if_needed()
    await expect(chart).to_be_visible()
    await expect(chart).to_have_js_property("complete", True)
    assert await chart.evaluate("image => image.naturalWidth") > 0
    document = (await karin.expect("CSV-fil")).locator("a.document")
    await expect(document).to_have_attribute("download", re.compile(r"^programme-\d+-.+\.csv$"))
    href = await document.get_attribute("href")
    assert href is not None
    csv = await page.evaluate(f"fetch('{href}').then(r => r.text())")
    assert csv.lstrip("\ufeff").startswith("metric,label,month,value")
    assert "Astrid" not in csv and "Mikael" not in csv

    # The directory lists Mikael's seeded profile.
    await astrid.send("/mentors")
    await astrid.expect("Mentorer i Mentorprogrammet 2027")
    await astrid.press("👀 Visa 1 mentor")
    profile = await astrid.expect("👤 Mikael")
    await expect(profile).to_contain_text("Nordverk AB")
    await expect(profile).to_contain_text("Ledarskap")

    # /support offers both ways to the coordinator; Astrid asks to be contacted.
    await astrid.send("/support")
    support = await astrid.expect("Behöver du stöd?")
    await expect(support).to_contain_text("karin@example.org")
    await expect(support.get_by_role("button", name="✉️ Rapportera ett problem")).to_be_visible()
    await astrid.press("📞 Be programansvarig kontakta mig")
    await astrid.expect("ditt namn (Astrid)")
    await astrid.press("Skicka till programansvarig")
    await astrid.expect("Programansvarig vet nu att du vill bli kontaktad")
    request = await karin.expect("Någon vill att du hör av dig")
    await expect(request).to_contain_text("Astrid")
    await expect(request).to_contain_text("Mentorprogrammet 2027")
    assert page.problems == []
