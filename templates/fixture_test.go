package templates

import (
	"testing"
	"time"
)

// Fixtures from the portal's own news list (shared seed 000_7f06eab294a566ae),
// tagged the way the articles package would tag them.

var (
	rDE = Named{"DE", "Bundesweit"}
	rBY = Named{"DE-BY", "Bayern"}
	rBW = Named{"DE-BW", "Baden-Württemberg"}
	rHE = Named{"DE-HE", "Hessen"}
	rNI = Named{"DE-NI", "Niedersachsen"}
	rNW = Named{"DE-NW", "Nordrhein-Westfalen"}
	rST = Named{"DE-ST", "Sachsen-Anhalt"}
	rTH = Named{"DE-TH", "Thüringen"}

	tOZG      = Named{"ozg-onlinedienste", "OZG & Onlinedienste"}
	tRegister = Named{"registermodernisierung", "Registermodernisierung"}
	tCloud    = Named{"cloud-infrastruktur", "Cloud & IT-Infrastruktur"}
	tSec      = Named{"it-sicherheit", "IT-Sicherheit"}
	tSmart    = Named{"smart-city", "Smart City"}
	tBeteil   = Named{"buergerbeteiligung", "Bürgerbeteiligung"}
	tBarriere = Named{"barrierefreiheit", "Barrierefreiheit"}
	tProzess  = Named{"prozessmanagement", "Prozessmanagement"}
	tLowCode  = Named{"low-code", "Low Code / No Code"}
	tOpen     = Named{"open-source", "Open Source"}
	tVerkehr  = Named{"verkehr-mobilitaet", "Verkehr & Mobilität"}
	tEAkte    = Named{"e-akte-dokumente", "E-Akte & Dokumente"}
	tStrategy = Named{"strategie-politik", "Strategie & Politik"}
)

func seedDay(day string) time.Time {
	t, err := time.ParseInLocation("02.01.2006 15:04", day+" 10:30", berlin)
	if err != nil {
		panic(err)
	}
	return t
}

// seedArticles are the seed's items, newest first.
func seedArticles() []Article {
	return []Article{
		{ID: 50415, URL: "https://www.kommune21.de/meldung_50415_Kommunen+b%C3%BCndeln+Kr%C3%A4fte.html",
			Kicker: "Low Code / No Code", Title: "Kommunen bündeln Kräfte", PublishedAt: seedDay("19.02.2026"),
			Teaser:  "Am Niederrhein haben mehrere Kommunen eine gemeinsame Plattform für digitale Anwendungen beschafft. Mit der Low-Code-/No-Code-Lösung setzen sie auf Tempo bei der Entwicklung neuer Anwendungen und die Wiederverwendung existierender Komponenten. mehr...",
			Regions: []Named{rNW}, Topics: []Named{tLowCode}},
		{ID: 50388, URL: "https://www.kommune21.de/meldung_50388_Wie+brauchbar+sind+die+Registerdaten%3F.html",
			Kicker: "Registermodernisierung", Title: "Wie brauchbar sind die Registerdaten?", PublishedAt: seedDay("16.02.2026"),
			Teaser:  "Geht es um die Registermodernisierung, stehen oft vor allem technische Aspekte wie die Datenaustauschplattform NOOTS im Fokus. Ein Pilotprojekt in Niedersachsen hat nun die Qualität der Registerdaten selbst untersucht und gleichzeitig gezeigt, wie diese automatisiert verbessert werden kann. mehr...",
			Regions: []Named{rNI}, Topics: []Named{tRegister}},
		{ID: 50361, URL: "https://www.kommune21.de/meldung_50361_Sachsen-Anhalt+sucht+Kommunen+f%C3%BCr+Proof+of+Concept.html",
			Kicker: "Prozessmanagement", Title: "Sachsen-Anhalt sucht Kommunen für Proof of Concept", PublishedAt: seedDay("12.02.2026"),
			Teaser:  "Sachsen-Anhalt will mit Kommunen erproben, ob und in welchem Umfang sich eine zentral bereitgestellte Prozessmodellierungssoftware als Basiskomponente eignet. Interessierte Kommunen können sich an die Kommunale IT-Union (KITU) wenden und die PICTURE-Prozessplattform sowie ausgewählte Dienstleistungen bis Ende 2026 unentgeltlich im Rahmen der verfügbaren Mittel nutzen. mehr...",
			Regions: []Named{rST}, Topics: []Named{tProzess}},
		{ID: 50342, URL: "https://www.kommune21.de/meldung_50342_Nachnutzung+braucht+Strukturen.html",
			Kicker: "Studie", Title: "Nachnutzung braucht Strukturen", PublishedAt: seedDay("10.02.2026"),
			Teaser:  "Das Einer-für-Alle-Prinzip soll Verwaltungsdigitalisierung skalierbar machen. Wie Länder und Kommunen die Nachnutzung organisieren und warum sie unterschiedlich weit sind, berichtet die FITKO unter Bezug auf eine neue Studie. mehr...",
			Regions: []Named{rDE}, Topics: []Named{tOZG, tStrategy}},
		{ID: 50339, URL: "https://www.kommune21.de/meldung_50339_Neue+Beh%C3%B6rdenCommunity+gestartet.html",
			Kicker: "factro", Title: "Neue BehördenCommunity gestartet", PublishedAt: seedDay("10.02.2026"),
			Teaser:  "Mit der factro BehördenCommunity steht Kommunen nun ein digitaler Raum zur Verfügung, in dem sie Wissen teilen und Projektvorlagen austauschen können. Das Angebot orientiert sich an der Aufgaben- und Projektmanagement-Software factro. Zentraler Baustein ist eine Vorlagenbibliothek. Auch ein BehördenTalk wird angeboten. mehr...",
			Regions: []Named{rDE}, Topics: []Named{tProzess}},
		{ID: 50211, URL: "https://www.kommune21.de/meldung_50211_Drei+L%C3%B6sungen+von+ekom21.html",
			Kicker: "Deutsche Verwaltungscloud", Title: "Drei Lösungen von ekom21", PublishedAt: seedDay("27.01.2026"),
			Teaser:  "Über die Deutsche Verwaltungscloud können nun drei Anwendungen von IT-Dienstleister ekom21 abgerufen werden. Schon seit März 2025 steht hier esina21, eine Eigenentwicklung für das sichere Senden und Empfangen von Nachrichten im Kontext des besonderen Behördenpostfachs (beBPo), bereit. Neu dazugekommen sind die Bezahlplattform epay21 und die Digitalisierungsplattform civento. mehr...",
			Regions: []Named{rHE, rDE}, Topics: []Named{tCloud}},
		{ID: 50170, URL: "https://www.kommune21.de/meldung_50170_Digitalisierung+der+Personenstandsregister.html",
			Kicker: "Wiesbaden", Title: "Digitalisierung der Personenstandsregister", PublishedAt: seedDay("22.01.2026"),
			Teaser:  "Zur Digitalisierung ihrer Personenstandsregister hat die Stadt Wiesbaden die Stabsstelle DiRegiSta eingerichtet. Mithilfe einer Software überträgt diese nach und nach die geprüften und ergänzten alten Einträge in das elektronische Register. Dabei orientiert sich Wiesbaden an den Erfahrungen Berlins. mehr...",
			Regions: []Named{rHE}, Topics: []Named{tRegister, tEAkte}},
		{ID: 50158, URL: "https://www.kommune21.de/meldung_50158_Umfassende+Cloud-Migration.html",
			Kicker: "Rosenheim", Title: "Umfassende Cloud-Migration", PublishedAt: seedDay("21.01.2026"),
			Teaser:  "Wie eine sichere, wirtschaftliche und souveräne Cloud-Einführung im öffentlichen Sektor gelingen kann, zeigt sich in Rosenheim. Schrittweise wurden hier Verwaltung, Stadtgesellschaften und Schulen datenschutzkonform auf Microsoft 365 migriert. mehr...",
			Regions: []Named{rBY}, Topics: []Named{tCloud}},
		{ID: 50144, URL: "https://www.kommune21.de/meldung_50144_VR+erg%C3%A4nzt+analoge+Beteiligung.html",
			Kicker: "Magdeburg", Title: "VR ergänzt analoge Beteiligung", PublishedAt: seedDay("20.01.2026"),
			Teaser:  "In einem gemeinsam mit dem Fraunhofer IFF entwickelten Forschungsvorhaben will Magdeburg analoge Beteiligungsmethoden mit Virtual-Reality-Technologie verknüpfen. Für den ersten Einsatz ist ein durch 360-Grad-Panorama- und Bodenprojektionen virtuell begehbares Plangebiet erstellt worden. mehr...",
			Regions: []Named{rST}, Topics: []Named{tBeteil}},
		{ID: 50102, URL: "https://www.kommune21.de/meldung_50102_Cloudbasiertes+Melderegister.html",
			Kicker: "AKDB", Title: "Cloudbasiertes Melderegister", PublishedAt: seedDay("15.01.2026"),
			Teaser:  "Der Innovationswettbewerb „Register-as-a-Service“ von GovTech Platforms ist abgeschlossen. Ein von der AKDB geführtes Konsortium mit Komm.ONE, H&D, Scontain und mehreren Städten hat eine cloudbasierte Referenzlösung für das Melderegister entwickelt und erfolgreich in vier Kommunen erprobt. mehr...",
			Regions: []Named{rBY}, Topics: []Named{tRegister, tCloud}},
		{ID: 50033, URL: "https://www.kommune21.de/meldung_50033_Smarte+Technik+statt+Parksuchverkehr.html",
			Kicker: "Halle (Saale)", Title: "Smarte Technik statt Parksuchverkehr", PublishedAt: seedDay("05.01.2026"),
			Teaser:  "Ein beliebtes Erlebnisbad sorgte in Halle (Saale) bislang für unnötigen Verkehr in einem Wohngebiet. Der Grund: Es werden Parkplätze gesucht. Die Echtzeitanzeige der Parkhausbelegung am Erlebnisbad plus Hinweis auf alternative Parkmöglichkeiten sollen dem nun ein Ende bereiten. mehr...",
			Regions: []Named{rST}, Topics: []Named{tSmart, tVerkehr}},
		{ID: 49987, URL: "https://www.kommune21.de/meldung_49987_Ergebnisse+des+RaaS-Projekts.html",
			Kicker: "GovTech Deutschland", Title: "Ergebnisse des RaaS-Projekts", PublishedAt: seedDay("22.12.2025"),
			Teaser:  "GovTech Deutschland hat das Projekt Register-as-a-Service (RaaS) abgeschlossen. Die Ergebnisse – eine vollständige Referenzarchitektur, funktionale technische Implementierungen und ein begleitendes Rechtsgutachten für moderne Cloud-Register – stehen Open Source über die Plattform openCode zur Verfügung. mehr...",
			Regions: []Named{rDE}, Topics: []Named{tRegister, tOpen}},
		{ID: 49960, URL: "https://www.kommune21.de/meldung_49960_Inklusive+Transformation.html",
			Kicker: "Digitale Barrierefreiheit", Title: "Inklusive Transformation", PublishedAt: seedDay("19.12.2025"),
			Teaser:  "In einer neuen Modulserie des eGov-Campus steht das Thema digitale Barrierefreiheit im Vordergrund. Der Kurs sensibilisiert die Teilnehmenden für dieses Thema, informiert über rechtliche Grundlagen und vermittelt praktische Umsetzungshilfen. mehr...",
			Regions: []Named{rDE}, Topics: []Named{tBarriere}},
		{ID: 49921, URL: "https://www.kommune21.de/meldung_49921_Ausbau+digitaler+Dienstleistungen.html",
			Kicker: "Reutlingen", Title: "Ausbau digitaler Dienstleistungen", PublishedAt: seedDay("12.12.2025"),
			Teaser:  "In Reutlingen wächst das Angebot digitaler Verwaltungsdienstleistungen. Dazu zählen vollständig digitale Prozesse ebenso wie die flächendeckend angebotenen Fototerminals für Passbilder. Auch können Fundsachen online aufgerufen werden. Weitere Onlineservices bietet außerdem das Standesamt an. mehr...",
			Regions: []Named{rBW}, Topics: []Named{tOZG}},
		{ID: 49904, URL: "https://www.kommune21.de/meldung_49904_Feedback+zum+Deutschland-Stack.html",
			Kicker: "München", Title: "Feedback zum Deutschland-Stack", PublishedAt: seedDay("11.12.2025"),
			Teaser:  "Mit ihren Anmerkungen zum Deutschland-Stack will die bayerische Landeshauptstadt München dazu beitragen, die digitale Transformation der Verwaltung voranzutreiben. Unter anderem regt die Stadt an, die kommunalen Bedürfnisse sowie die Dresdner Forderungen zur digitalen Verwaltung mehr zu berücksichtigen. mehr...",
			Regions: []Named{rBY}, Topics: []Named{tStrategy}},
	}
}

func testSite() Site {
	return Site{
		Name:      "Kommune21 Digest",
		PortalURL: "https://www.kommune21.de",
		Imprint:   "K21 media GmbH\nBeispielstraße 12\n72070 Tübingen\nGeschäftsführung: Max Beispiel\nRegistergericht Stuttgart, HRB 000000",
		ReplyTo:   "redaktion@kommune21.example",
	}
}

// goldenDigest is the weekly digest of KW 8 for a subscriber who chose three
// Länder plus nationwide news and three topics: the five seed items of the
// last 14 days, and one more that the cap cut.
func goldenDigest() Digest {
	return Digest{
		Cadence:  "weekly",
		Edition:  "2026-W08",
		At:       time.Date(2026, time.February, 19, 7, 0, 0, 0, berlin),
		Articles: seedArticles()[:5],
		More:     1,
		Regions:  []Named{rST, rDE, rNI, rNW},
		Topics:   []Named{tProzess, tRegister, tLowCode},

		ArchiveURL: "https://digest.kommune21.example/archive?t=v1.SeLeCt0042",
	}
}

func goldenRecipient() Recipient {
	return Recipient{
		Name:           "Erika Mustermann",
		Email:          "erika.mustermann@example.org",
		UnsubscribeURL: "https://digest.kommune21.example/unsubscribe?t=v1.AbCdEf0123",
		PreferencesURL: "https://digest.kommune21.example/preferences?t=v1.ZyXwVu9876",
	}
}

func mustNew(tb testing.TB) *Set {
	tb.Helper()
	s, err := New(testSite())
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return s
}

func mustPrepare(tb testing.TB, s *Set, d Digest) *Prepared {
	tb.Helper()
	p, err := s.Prepare(d)
	if err != nil {
		tb.Fatalf("Prepare: %v", err)
	}
	return p
}
