#!/usr/bin/python3
"""Downbeat confidence against correctness on the dev renders (POP909 songs 1-200, seed 1, in the
bench cache; never used by the calibration of fit_bar_phase.py): reliability by confidence bin.

    /usr/bin/python3 tools/train_rhythm/check_downbeat_confidence.py build/harmony

Right = at least 75 % of the reported downbeats (after 5 s) within 70 ms of an annotated one.
"""

import glob
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import mir_eval
import numpy as np
binp=sys.argv[1]
items=[]
for j in sorted(glob.glob(os.path.expanduser('~/.cache/harmony-bench/corpus-seed1/pop909-*-s1-r0.json'))):
    sid=int(os.path.basename(j).split('-')[1])
    if sid>200: continue
    d=json.load(open(j)); items.append((os.path.join(os.path.dirname(j),d['audio_file']),d['downbeats']))
def run(it):
    a,ref=it
    with tempfile.TemporaryDirectory() as td:
        o=td+'/o.json'
        subprocess.run([binp,'analyze',a,'--only','tempo,beats','-q','-o',o,'--no-library','--threads','1'],capture_output=True)
        d=json.load(open(o))
    est=mir_eval.beat.trim_beats(np.array(d['downbeats']['times_s'])); r=mir_eval.beat.trim_beats(np.array(ref))
    if len(est)==0 or len(r)==0: return None
    prec=len(mir_eval.util.match_events(r,est,0.07))/len(est)
    return d['downbeats']['confidence'], prec>=0.75
with ThreadPoolExecutor(2) as ex: res=[x for x in ex.map(run,items) if x]
c=np.array([x[0] for x in res]); y=np.array([x[1] for x in res])
from sklearn.metrics import roc_auc_score,brier_score_loss
print('dev renders n %d: right %.2f, mean confidence %.2f, Brier %.3f, AUC %.3f'%(len(y),y.mean(),c.mean(),brier_score_loss(y,c),roc_auc_score(y,c)))
for lo,hi in ((0,0.5),(0.5,0.7),(0.7,0.85),(0.85,1.01)):
    m=(c>=lo)&(c<hi)
    if m.sum(): print('  [%.2f,%.2f) n %d predicted %.2f right %.2f'%(lo,min(hi,1),m.sum(),c[m].mean(),y[m].mean()))
