package taxonomy

// Default returns the default regions and topics, the ones migration 00002
// puts into a new database (DESIGN.md's list). Tools that tag or evaluate
// without a database use it; TestDefault_MatchesMigration keeps the two equal.
func Default() *Set {
	regions := []Region{{Code: "DE", Name: "Bundesweit"}, {Code: "DE-BW", Name: "Baden-Württemberg"}, {Code: "DE-BY", Name: "Bayern"},
		{Code: "DE-BE", Name: "Berlin"}, {Code: "DE-BB", Name: "Brandenburg"}, {Code: "DE-HB", Name: "Bremen"}, {Code: "DE-HH", Name: "Hamburg"},
		{Code: "DE-HE", Name: "Hessen"}, {Code: "DE-MV", Name: "Mecklenburg-Vorpommern"}, {Code: "DE-NI", Name: "Niedersachsen"},
		{Code: "DE-NW", Name: "Nordrhein-Westfalen"}, {Code: "DE-RP", Name: "Rheinland-Pfalz"}, {Code: "DE-SL", Name: "Saarland"},
		{Code: "DE-SN", Name: "Sachsen"}, {Code: "DE-ST", Name: "Sachsen-Anhalt"}, {Code: "DE-SH", Name: "Schleswig-Holstein"}, {Code: "DE-TH", Name: "Thüringen"}}
	topics := []Topic{{Slug: "ozg-onlinedienste", Name: "OZG & Onlinedienste"}, {Slug: "registermodernisierung", Name: "Registermodernisierung"},
		{Slug: "cloud-infrastruktur", Name: "Cloud & IT-Infrastruktur"}, {Slug: "it-sicherheit", Name: "IT-Sicherheit"},
		{Slug: "kuenstliche-intelligenz", Name: "Künstliche Intelligenz"}, {Slug: "smart-city", Name: "Smart City"},
		{Slug: "buergerbeteiligung", Name: "Bürgerbeteiligung"}, {Slug: "barrierefreiheit", Name: "Barrierefreiheit"},
		{Slug: "prozessmanagement", Name: "Prozessmanagement"}, {Slug: "low-code", Name: "Low Code / No Code"},
		{Slug: "personal-organisation", Name: "Personal & Organisation"}, {Slug: "finanzen-foerderung", Name: "Finanzen & Förderung"},
		{Slug: "open-source", Name: "Open Source"}, {Slug: "geodaten-planung", Name: "Geodaten & Planung"},
		{Slug: "schule-bildung", Name: "Schule & Bildung"}, {Slug: "gesundheit-soziales", Name: "Gesundheit & Soziales"},
		{Slug: "verkehr-mobilitaet", Name: "Verkehr & Mobilität"}, {Slug: "e-akte-dokumente", Name: "E-Akte & Dokumente"},
		{Slug: "beschaffung", Name: "Beschaffung"}, {Slug: "strategie-politik", Name: "Strategie & Politik"}}
	return NewSet(regions, topics)
}
