#!/usr/bin/env python3
"""Join the blind labels (work/labels-*.tsv) to the items (work/items.json) and
split by source into test, dev and train: sources shuffled with a fixed seed,
test filled first to 150 items, then dev to 95, the rest train.

    split.py OUTDIR
"""
import json, os, random, sys
base = os.path.dirname(os.path.abspath(__file__))
items = json.load(open(os.path.join(base, 'work', 'items.json'), encoding='utf-8'))
labels = {}
for i in (1, 2, 3):
    for line in open(os.path.join(base, 'work', 'labels-%d.tsv' % i), encoding='utf-8'):
        line = line.strip()
        if not line or line.startswith('#'): continue
        id_, regions, topics = line.split('\t')
        assert id_ not in labels, id_
        labels[id_] = (regions.replace(' ', ''), topics.replace(' ', ''))
missing = [it['id'] for it in items if it['id'] not in labels]
assert not missing, missing
regions = {'DE'} | {'DE-' + c for c in 'BW BY BE BB HB HH HE MV NI NW RP SL SN ST SH TH'.split()}
topics = set('ozg-onlinedienste registermodernisierung cloud-infrastruktur it-sicherheit kuenstliche-intelligenz smart-city buergerbeteiligung barrierefreiheit prozessmanagement low-code personal-organisation finanzen-foerderung open-source geodaten-planung schule-bildung gesundheit-soziales verkehr-mobilitaet e-akte-dokumente beschaffung strategie-politik'.split())
for it in items:
    r, t = labels[it['id']]
    assert set(r.split(',')) <= regions and set(t.split(',')) <= topics and r and t, (it['id'], r, t)
    it['regions'], it['topics'] = r, t
sources = sorted({it['source'] for it in items})
random.Random(20261202).shuffle(sources)
count = {s: sum(1 for it in items if it['source'] == s) for s in sources}
split, n = {}, {'test': 0, 'dev': 0}
for s in sources:
    if n['test'] < 150: name = 'test'
    elif n['dev'] < 95: name = 'dev'
    else: name = 'train'
    split[s] = name
    if name in n: n[name] += count[s]
outdir = sys.argv[1]
header = ('# Labelled corpus of real German e-government news (see README.md and GUIDE.md).\n'
          '# Columns: id, source, url, date, kicker, title, teaser, regions, topics\n')
for name in ('test', 'dev', 'train'):
    rows = [it for it in items if split[it['source']] == name]
    with open(os.path.join(outdir, name + '.tsv'), 'w', encoding='utf-8') as f:
        f.write(header)
        for it in rows:
            f.write('\t'.join([it['id'], it['source'], it['url'], it['date'], it['kicker'], it['title'], it['teaser'], it['regions'], it['topics']]) + '\n')
    print(name, len(rows), 'items', len({it['source'] for it in rows}), 'sources')
