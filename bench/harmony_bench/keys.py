"""Key names: everything is normalised to (pitch class, mode) and printed in mir_eval syntax."""

_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]


def pitch_class(tonic):
    """'C#', 'Db', 'e', 'F♯', 'Bbb' -> 0..11; None when unparseable."""
    if tonic is None:
        return None
    t = str(tonic).strip().replace("♯", "#").replace("♭", "b")
    if not t or t[0].upper() not in _PC:
        return None
    pc = _PC[t[0].upper()]
    for ch in t[1:]:
        if ch == "#":
            pc += 1
        elif ch == "b":
            pc -= 1
        else:
            return None
    return pc % 12


def norm_mode(mode):
    if mode is None:
        return None
    m = str(mode).strip().lower()
    if m in ("major", "maj", "ionian"):
        return "major"
    if m in ("minor", "min", "aeolian"):
        return "minor"
    return None


def key_from_names(tonic, mode):
    pc, m = pitch_class(tonic), norm_mode(mode)
    if pc is None or m is None:
        return None
    return {"pc": pc, "mode": m}


def key_from_pc(pc, mode):
    m = norm_mode(mode)
    if pc is None or m is None:
        return None
    return {"pc": int(pc) % 12, "mode": m}


def mir_eval_label(key):
    """{'pc': 1, 'mode': 'minor'} -> 'C# minor' (the syntax mir_eval.key expects)."""
    return "%s %s" % (NAMES[key["pc"]], key["mode"])


def label(key):
    return mir_eval_label(key) if key else "-"
