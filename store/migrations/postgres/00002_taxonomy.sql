-- +goose Up
INSERT INTO regions (code, name, position) VALUES
    ('DE',    'Bundesweit',             0),
    ('DE-BW', 'Baden-Württemberg',      1),
    ('DE-BY', 'Bayern',                 2),
    ('DE-BE', 'Berlin',                 3),
    ('DE-BB', 'Brandenburg',            4),
    ('DE-HB', 'Bremen',                 5),
    ('DE-HH', 'Hamburg',                6),
    ('DE-HE', 'Hessen',                 7),
    ('DE-MV', 'Mecklenburg-Vorpommern', 8),
    ('DE-NI', 'Niedersachsen',          9),
    ('DE-NW', 'Nordrhein-Westfalen',   10),
    ('DE-RP', 'Rheinland-Pfalz',       11),
    ('DE-SL', 'Saarland',              12),
    ('DE-SN', 'Sachsen',               13),
    ('DE-ST', 'Sachsen-Anhalt',        14),
    ('DE-SH', 'Schleswig-Holstein',    15),
    ('DE-TH', 'Thüringen',             16);

INSERT INTO topics (slug, name, position) VALUES
    ('ozg-onlinedienste',       'OZG & Onlinedienste',        1),
    ('registermodernisierung',  'Registermodernisierung',     2),
    ('cloud-infrastruktur',     'Cloud & IT-Infrastruktur',   3),
    ('it-sicherheit',           'IT-Sicherheit',              4),
    ('kuenstliche-intelligenz', 'Künstliche Intelligenz',     5),
    ('smart-city',              'Smart City',                 6),
    ('buergerbeteiligung',      'Bürgerbeteiligung',          7),
    ('barrierefreiheit',        'Barrierefreiheit',           8),
    ('prozessmanagement',       'Prozessmanagement',          9),
    ('low-code',                'Low Code / No Code',        10),
    ('personal-organisation',   'Personal & Organisation',   11),
    ('finanzen-foerderung',     'Finanzen & Förderung',      12),
    ('open-source',             'Open Source',               13),
    ('geodaten-planung',        'Geodaten & Planung',        14),
    ('schule-bildung',          'Schule & Bildung',          15),
    ('gesundheit-soziales',     'Gesundheit & Soziales',     16),
    ('verkehr-mobilitaet',      'Verkehr & Mobilität',       17),
    ('e-akte-dokumente',        'E-Akte & Dokumente',        18),
    ('beschaffung',             'Beschaffung',               19),
    ('strategie-politik',       'Strategie & Politik',       20);

-- +goose Down
DELETE FROM topics;
DELETE FROM regions;
