#!/usr/bin/env python3
"""Medians of three runs per benchmark, as BENCHMARKS.md tabulates them.

Run from the repository root after writing target/bench-results/{peak_event,flash_crowd,steady}-run{1,2,3}.json
with `--out`:  python3 benches/medians.py
"""
import json, statistics, glob, sys
R='target/bench-results/'
def load(name):
    out=[]
    for i in (1,2,3):
        try: out.append(json.load(open(f'{R}{name}-run{i}.json')))
        except Exception as e: pass
    return out
def med(xs):
    xs=[x for x in xs if x is not None]
    return statistics.median(xs) if xs else float('nan')
def by(runs, c):
    return [next(r for r in run['results'] if r['contender']==c) for run in runs if any(r['contender']==c for r in run['results'])]

peak=load('peak_event')
if peak:
    print(f"## peak_event: {len(peak)} runs")
    cs=[r['contender'] for r in peak[0]['results']]
    print("| contender | bg dec/s before / during / after | p50 before / during / after ms | p99 before / during / after ms | p99.9 during ms | **p99 during ÷ before** | drop all final s | drop 409 at once | CPU ms/decision | gates |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|---|")
    for c in cs:
        rs=by(peak,c)
        ph=lambda k,i:[r['background'][i][k] for r in rs]
        g=[r['gates'] for r in rs]
        gates='0' if all(all(v==0 for v in x.values()) for x in g) else str(g)
        runs_ratio=', '.join('%.2f' % r['p99_during_over_before'] for r in rs)
        print(f"| {c} | {med(ph('decisions_per_s',0)):.0f} / {med(ph('decisions_per_s',1)):.0f} / {med(ph('decisions_per_s',2)):.0f} | {med(ph('p50_ms',0)):.1f} / {med(ph('p50_ms',1)):.1f} / {med(ph('p50_ms',2)):.1f} | {med(ph('p99_ms',0)):.1f} / {med(ph('p99_ms',1)):.1f} / {med(ph('p99_ms',2)):.1f} | {med(ph('p99_9_ms',1)):.1f} | **{med([r['p99_during_over_before'] for r in rs]):.2f}×** ({runs_ratio}) | {med([r['drop']['all_final_s'] for r in rs]):.2f} | {med([r['drop']['turned_away_at_once_409'] for r in rs]):.0f} | {med([r['cpu_ms_per_decision'] for r in rs]):.2f} | {gates} |")
flash=load('flash_crowd')
if flash:
    print(f"\n## flash_crowd: {len(flash)} runs")
    cs=[r['contender'] for r in flash[0]['results']]
    print("| contender | all final s (runs) | median | × floor | decisions/s | p50 ms | p99 ms | CPU s/1000 | sold | gates |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for c in cs:
        rs=by(flash,c)
        mult=[run['ratios']['by_contender'][c]['multiple_of_floor'] for run in flash if c in run['ratios']['by_contender']]
        g=[r['gates'] for r in rs]
        gates='0' if all(all((v or 0)==0 for k,v in x.items() if k!='all_zero') for x in g) else 'oversold '+str([x['oversold_reservations'] for x in g])
        finals=', '.join('%.2f' % r['all_final_s'] for r in rs)
        print(f"| {c} | {finals} | {med([r['all_final_s'] for r in rs]):.2f} | {med(mult):.2f}× | {med([r['decisions_per_s'] for r in rs]):.0f} | {med([r['latency_ms']['p50'] for r in rs]):.1f} | {med([r['latency_ms']['p99'] for r in rs]):.1f} | {med([r['cpu_s_per_1000_decisions'] for r in rs]):.3f} | {med([r['sold'] for r in rs]):.0f} | {gates} |")
    for run in flash:
        m=next((r for r in run['results'] if r['contender']=='maitred'),None)
        if m: print('maitred profile:', json.dumps(m.get('profile')))
steady=load('steady')
if steady:
    print(f"\n## steady: {len(steady)} runs")
    cs=[r['contender'] for r in steady[0]['results']]
    rates=steady[0]['rates']
    print("| offered/s | " + " | ".join(f"{c} dec/s · p50 · p99 ms" for c in cs)+" |")
    print("|---:|"+"---|"*len(cs))
    for i,rate in enumerate(rates):
        cells=[]
        for c in cs:
            rs=by(steady,c)
            st=[r['steps'][i] for r in rs]
            cells.append(f"{med([s['decisions_per_s'] for s in st]):.0f} · {med([s['p50_ms'] for s in st]):.1f} · {med([s['p99_ms'] for s in st]):.0f}" + (f" (shed {med([s['shed'] for s in st]):.0f})" if med([s['shed'] for s in st]) else ""))
        print(f"| {rate} | "+" | ".join(cells)+" |")
    for c in cs:
        rs=by(steady,c)
        print(f"{c}: best sustained {[r['best_sustained_decisions_per_s'] for r in rs]} median {med([r['best_sustained_decisions_per_s'] for r in rs]):.0f}; CPU s/1000 {med([r['cpu_s_per_1000_decisions'] for r in rs]):.2f}; gates {[r['gates'] for r in rs]}")
