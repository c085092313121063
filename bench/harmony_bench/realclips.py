"""Real recordings in ../shared/data that carry usable labels (see that folder's README.md).

Only labelled facts are scored: beats from the annotation files, tempo from .bpm/JAMS/titles, keys
from JAMS or file names. Nothing from ../shared is ever copied into the repository.
"""
import json
import os
import subprocess

from .keys import key_from_names


def _beats_file(path):
    beats, pos = [], []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            beats.append(float(parts[0]))
            pos.append(int(float(parts[1])) if len(parts) > 1 else None)
    downbeats = [b for b, p in zip(beats, pos) if p == 1]
    return beats, downbeats


def _bpm_file(path):
    with open(path) as f:
        return float(f.read().split()[0])


def _jams(path):
    with open(path) as f:
        d = json.load(f)
    out = {}
    for a in d["annotations"]:
        ns, data = a["namespace"], a["data"]
        if ns == "tempo" and data:
            out["tempo_bpm"] = float(data[0]["value"])
        elif ns == "key_mode" and data:
            tonic, mode = data[0]["value"].split(":")
            out["key"] = key_from_names(tonic, mode)
        elif ns == "beat_position" and data:
            out["beats"] = [float(x["time"]) for x in data]
            out["downbeats"] = [float(x["time"]) for x in data if x["value"]["position"] == 1]
            out["meter"] = "%d/%d" % (data[0]["value"]["num_beats"], data[0]["value"]["beat_units"])
    return out


def _clip(cid, path, note=None, **truth):
    return {"id": cid, "path": path, "truth": truth, "note": note}


def _duration(path):
    r = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                        "csv=p=0", path], capture_output=True, text=True)
    try:
        return float(r.stdout.strip())
    except ValueError:
        return None


def load_real_clips(shared):
    data = os.path.join(shared, "data")
    ft = os.path.join(data, "fulltracks")
    ann = os.path.join(ft, "annotations")
    clips = []

    def add(cid, rel, note=None, **truth):
        p = os.path.join(data, rel)
        if os.path.exists(p):
            clips.append(_clip(cid, p, note, **truth))

    for name, ext, meter in (("hainsworth_001", "flac", None),
                             ("ballroom_Media-105901", "wav", "3/4"),
                             ("simac_greek_01_H_mikri_Rallou", "flac", None)):
        bfile, tfile = os.path.join(ann, name + ".beats"), os.path.join(ann, name + ".bpm")
        if not (os.path.exists(bfile) and os.path.exists(tfile)):
            continue
        beats, downbeats = _beats_file(bfile)
        add(name, "fulltracks/audio/%s.%s" % (name, ext), tempo_bpm=_bpm_file(tfile), beats=beats,
            downbeats=downbeats, meter=meter)
    cui = os.path.join(ann, "cuidado_FallaCancion.bpm")
    if os.path.exists(cui):
        add("cuidado_FallaCancion", "fulltracks/audio/cuidado_FallaCancion.flac",
            tempo_bpm=_bpm_file(cui))
    gj = os.path.join(data, "guitarset1", "annotation", "00_BN1-129-Eb_comp.jams")
    if os.path.exists(gj):
        add("guitarset_00_BN1-129-Eb", "guitarset1/audio/00_BN1-129-Eb_comp_mic.wav", **_jams(gj))
    rec = "essentia-audio/recorded/"
    add("essentia_techno_loop", rec + "techno_loop.mp3", tempo_bpm=125.0)
    add("essentia_sax_e_major", rec + "359500__mtg__sax-tenor-e-major.wav",
        key=key_from_names("E", "major"),
        note="label from the file name only; every peer here reports Eb major, so it may be off")
    add("essentia_sax_d_minor", rec + "359628__mtg__sax-tenor-d-minor.wav",
        key=key_from_names("D", "minor"))
    lib = "librosa-data/audio/"
    add("librosa_trumpet_F_90bpm", lib + "sorohanro_-_solo-trumpet-06.hq.ogg", tempo_bpm=90.0)
    add("librosa_brahms_hungarian5", lib +
        "Hungarian_Dance_number_5_-_Allegro_in_F_sharp_minor_(string_orchestra).hq.ogg",
        key=key_from_names("F#", "minor"),
        note="key from the title; the usual orchestral arrangement is in G minor, which every peer "
             "here reports")
    for c in clips:
        c["set"] = "real"
        c["format"] = os.path.splitext(c["path"])[1][1:]
        c["duration_s"] = _duration(c["path"])
        t = c["truth"]
        for k in ("tempo_bpm", "beats", "downbeats", "meter", "key", "downbeat_confidence"):
            t.setdefault(k, None)
    return [c for c in clips if c["duration_s"]]
