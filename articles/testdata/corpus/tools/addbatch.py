#!/usr/bin/env python3
"""Add a later collection batch to dev and train, never to the frozen test split.

    addbatch.py prepare RAW.tsv SEED_PAGE TAGGING_TSV N   # items + N labelling batches in work/
    addbatch.py merge                                      # labels (work/add-labels-K.tsv) -> dev.tsv, train.tsv

prepare drops malformed rows, duplicates (by url and by title, also against the
corpus and the seed page and tagging.tsv), and every item whose source is a
source of test.tsv (only test.tsv's source column is read). Ids continue after
the corpus's highest id. The labelling batches hold only id, kicker, title and
teaser (tools/LABEL.md).

merge checks the labels as split.py does and appends each item to the split its
source already belongs to (dev or train); new sources are shuffled with the seed
20261203 and go to dev until dev holds 30 % of dev+train, the rest to train.
"""
import csv, hashlib, json, os, random, re, sys, unicodedata

base = os.path.dirname(os.path.abspath(__file__))
corpus = os.path.dirname(base)
work = os.path.join(base, 'work')
REGIONS = {'DE'} | {'DE-' + c for c in 'BW BY BE BB HB HH HE MV NI NW RP SL SN ST SH TH'.split()}
TOPICS = set('ozg-onlinedienste registermodernisierung cloud-infrastruktur it-sicherheit kuenstliche-intelligenz smart-city buergerbeteiligung barrierefreiheit prozessmanagement low-code personal-organisation finanzen-foerderung open-source geodaten-planung schule-bildung gesundheit-soziales verkehr-mobilitaet e-akte-dokumente beschaffung strategie-politik'.split())


def norm(s):
    s = unicodedata.normalize('NFC', s)
    s = re.sub(r'[\x00-\x1f\x7f\u2028\u2029]', ' ', s)
    return re.sub(r'\s+', ' ', s).strip()


def tkey(title):
    return re.sub(r'\W+', ' ', title.lower()).strip()


def rows(name):
    for line in open(os.path.join(corpus, name + '.tsv'), encoding='utf-8'):
        if line.startswith('#') or not line.strip():
            continue
        yield line.rstrip('\n').split('\t')


def test_sources():
    # Only the source column of the frozen split is read.
    return {r[1] for r in rows('test')}


def prepare(raw, seed_page, tagging, nbatches):
    seed = open(seed_page, encoding='utf-8').read()
    tag = open(tagging, encoding='utf-8').read()
    banned = test_sources()
    seen_url, seen_title, maxid = set(), set(), 0
    for name in ('dev', 'train'):
        for r in rows(name):
            seen_url.add(r[2]); seen_title.add(tkey(r[5]))
            maxid = max(maxid, int(r[0][1:]))
    for r in rows('test'):  # ids, urls and titles only, to keep ids unique and drop repeats
        seen_url.add(r[2]); seen_title.add(tkey(r[5]))
        maxid = max(maxid, int(r[0][1:]))
    items, dropped = [], {}
    def drop(why):
        dropped[why] = dropped.get(why, 0) + 1
    for line in open(raw, encoding='utf-8'):
        line = line.rstrip('\n')
        if not line.strip():
            continue
        c = line.split('\t')
        if len(c) != 6:
            drop('fields'); continue
        src, url, date, kicker, title, teaser = [norm(x) for x in c]
        src = src.lower().removeprefix('www.')
        if not title or not url or len(teaser) < 40:
            drop('empty'); continue
        if src in banned:
            drop('test source'); continue
        k = tkey(title)
        if url in seen_url or k in seen_title:
            drop('duplicate'); continue
        if len(title) > 20 and (title in seed or title in tag):
            drop('seed/tagging'); continue
        seen_url.add(url); seen_title.add(k)
        items.append(dict(source=src, url=url, date=date, kicker=kicker, title=title, teaser=teaser))
    items.sort(key=lambda x: hashlib.sha256(x['url'].encode()).hexdigest())
    for i, it in enumerate(items, maxid + 1):
        it['id'] = 'c%04d' % i
    os.makedirs(work, exist_ok=True)
    json.dump(items, open(os.path.join(work, 'add-items.json'), 'w', encoding='utf-8'), ensure_ascii=False, indent=0)
    per = {}
    for it in items:
        per[it['source']] = per.get(it['source'], 0) + 1
    print(len(items), 'items,', len(per), 'sources; dropped', dropped, '; max per source', max(per.values()))
    size = -(-len(items) // nbatches)
    for b in range(nbatches):
        with open(os.path.join(work, 'add-batch-%d.tsv' % (b + 1)), 'w', encoding='utf-8') as out:
            out.write('# id\tkicker\ttitle\tteaser\n')
            for it in items[b * size:(b + 1) * size]:
                out.write('\t'.join([it['id'], it['kicker'], it['title'], it['teaser']]) + '\n')


def merge():
    items = json.load(open(os.path.join(work, 'add-items.json'), encoding='utf-8'))
    labels = {}
    for f in sorted(os.listdir(work)):
        if not (f.startswith('add-labels-') and f.endswith('.tsv')):
            continue
        for line in open(os.path.join(work, f), encoding='utf-8'):
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            id_, regions, topics = line.split('\t')
            assert id_ not in labels, id_
            labels[id_] = (regions.replace(' ', ''), topics.replace(' ', ''))
    missing = [it['id'] for it in items if it['id'] not in labels]
    if missing:  # an unfinished labelling batch: add what is labelled, say what is not
        print(len(missing), 'items not labelled yet, left out:', missing[0], '…', missing[-1])
        items = [it for it in items if it['id'] in labels]
    for it in items:
        r, t = labels[it['id']]
        assert r and t and set(r.split(',')) <= REGIONS and set(t.split(',')) <= TOPICS, (it['id'], r, t)
        it['regions'], it['topics'] = r, t
    banned = test_sources()
    assert not any(it['source'] in banned for it in items)
    split = {}
    n = {'dev': 0, 'train': 0}
    for name in ('dev', 'train'):
        for r in rows(name):
            split[r[1]] = name
            n[name] += 1
    new = sorted({it['source'] for it in items} - set(split))
    random.Random(20261203).shuffle(new)
    count = {}
    for it in items:
        count[it['source']] = count.get(it['source'], 0) + 1
    for s in sorted(set(split) & set(count)):
        n[split[s]] += count[s]
    for s in new:
        name = 'dev' if n['dev'] < 0.3 * (n['dev'] + n['train'] + count[s]) else 'train'
        split[s] = name
        n[name] += count[s]
    for name in ('dev', 'train'):
        add = [it for it in items if split[it['source']] == name]
        with open(os.path.join(corpus, name + '.tsv'), 'a', encoding='utf-8') as f:
            for it in add:
                f.write('\t'.join([it['id'], it['source'], it['url'], it['date'], it['kicker'], it['title'],
                                   it['teaser'], it['regions'], it['topics']]) + '\n')
        print(name, '+%d items' % len(add))


if __name__ == '__main__':
    if sys.argv[1] == 'prepare':
        prepare(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif sys.argv[1] == 'merge':
        merge()
    else:
        sys.exit(__doc__)
