#!/usr/bin/env python3
"""Merge the collectors' raw files (raw-*.tsv beside this script) into one
corpus with stable ids, and write labelling batches (id, kicker, title, teaser
only) into work/.

    assemble.py BATCHES SEED_PAGE TAGGING_TSV
"""
import csv, re, sys, unicodedata, hashlib, json, os
base = os.path.dirname(os.path.abspath(__file__))
seed = open(sys.argv[2], encoding='utf-8').read()
tagging = open(sys.argv[3], encoding='utf-8').read()
def norm(s):
    s = unicodedata.normalize('NFC', s)
    s = re.sub(r'[\x00-\x1f\x7f\u2028\u2029]', ' ', s)
    return re.sub(r'\s+', ' ', s).strip()
items, seen_url, seen_title, dropped = [], set(), set(), {}
def drop(why): dropped[why] = dropped.get(why, 0) + 1
for f in sorted(os.listdir(base)):
    if not (f.startswith('raw-') and f.endswith('.tsv')): continue
    for n, line in enumerate(open(os.path.join(base, f), encoding='utf-8'), 1):
        line = line.rstrip('\n')
        if not line.strip(): continue
        c = line.split('\t')
        if len(c) != 6: drop('fields'); continue
        src, url, date, kicker, title, teaser = [norm(x) for x in c]
        src = src.lower().removeprefix('www.')
        if not title or not url or len(teaser) < 40: drop('empty'); continue
        tkey = re.sub(r'\W+', ' ', title.lower()).strip()
        if url in seen_url or tkey in seen_title: drop('duplicate'); continue
        if len(title) > 20 and (title in seed or title in tagging): drop('seed/tagging'); continue
        seen_url.add(url); seen_title.add(tkey)
        items.append(dict(source=src, url=url, date=date, kicker=kicker, title=title, teaser=teaser))
items.sort(key=lambda x: hashlib.sha256(x['url'].encode()).hexdigest())
for i, it in enumerate(items, 1): it['id'] = 'c%04d' % i
with open(os.path.join(base, 'work', 'items.json'), 'w', encoding='utf-8') as out:
    json.dump(items, out, ensure_ascii=False, indent=0)
per = {}
for it in items: per[it['source']] = per.get(it['source'], 0) + 1
print(len(items), 'items,', len(per), 'sources; dropped', dropped, '; max per source', max(per.values()))
nb = int(sys.argv[1]) if len(sys.argv) > 1 else 4
size = -(-len(items) // nb)
for b in range(nb):
    with open(os.path.join(base, 'work', 'batch-%d.tsv' % (b + 1)), 'w', encoding='utf-8') as out:
        out.write('# id\tkicker\ttitle\tteaser\n')
        for it in items[b*size:(b+1)*size]:
            out.write('\t'.join([it['id'], it['kicker'], it['title'], it['teaser']]) + '\n')
