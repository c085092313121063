"""Checks of bench/harmony_bench/scoring.py against mir_eval's own fixtures
(../shared/data/metric-fixtures/mir_eval_tests_data) and a few hand-made cases.

Run inside bench/:  /usr/bin/python3 -m unittest -v
"""
import glob
import json
import os
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harmony_bench import keys, scoring, tools  # noqa: E402
from harmony_bench.paths import shared_dir  # noqa: E402

FIX = os.path.join(shared_dir(), "data", "metric-fixtures", "mir_eval_tests_data")
HAVE_FIX = os.path.isdir(FIX)


def _times(path):
    return [float(x) for x in open(path).read().split("\n") if x.strip() and not x.startswith("#")]


def _key_file(path):
    lines = [x for x in open(path).read().split("\n") if x.strip() and not x.startswith("#")]
    return lines[0].split()


@unittest.skipUnless(HAVE_FIX, "mir_eval fixtures not found in ../shared")
class TestAgainstMirEvalFixtures(unittest.TestCase):
    def test_beat_metrics(self):
        n = 0
        for ref_f in sorted(glob.glob(os.path.join(FIX, "beat", "ref*.txt"))):
            i = os.path.basename(ref_f)[3:5]
            est_f = os.path.join(FIX, "beat", "est%s.txt" % i)
            expected = json.load(open(os.path.join(FIX, "beat", "output%s.json" % i)))
            got = scoring.beat_scores(_times(ref_f), _times(est_f))
            self.assertAlmostEqual(got["beat_f"], expected["F-measure"], places=6, msg=ref_f)
            self.assertAlmostEqual(got["cmlt"], expected["Correct Metric Level Total"], places=6)
            self.assertAlmostEqual(got["amlt"], expected["Any Metric Level Total"], places=6)
            n += 1
        self.assertGreaterEqual(n, 5)

    def test_key_weighted_score(self):
        n = 0
        for ref_f in sorted(glob.glob(os.path.join(FIX, "key", "ref*.txt"))):
            i = os.path.basename(ref_f)[3:5]
            expected = json.load(open(os.path.join(FIX, "key", "output%s.json" % i)))["Weighted Score"]
            ref = keys.key_from_names(*_key_file(ref_f))
            est = keys.key_from_names(*_key_file(os.path.join(FIX, "key", "est%s.txt" % i)))
            got = scoring.key_scores(ref, est)
            self.assertAlmostEqual(got["key_weighted"], expected, msg=ref_f)
            self.assertEqual(got["key_exact"], float(expected == 1.0))
            n += 1
        self.assertGreaterEqual(n, 5)

    def test_tempo_fixtures_through_mir_eval(self):
        # The tempo fixtures use two weighted tempi; this checks the installed mir_eval itself.
        import mir_eval
        for ref_f in sorted(glob.glob(os.path.join(FIX, "tempo", "ref*.lab"))):
            i = os.path.basename(ref_f)[3:5]
            ref = np.loadtxt(ref_f)
            est = np.loadtxt(os.path.join(FIX, "tempo", "est%s.lab" % i))
            expected = json.load(open(os.path.join(FIX, "tempo", "output%s.json" % i)))
            p, one, both = mir_eval.tempo.detection(ref[:2], ref[2], est[:2], tol=0.08)
            self.assertAlmostEqual(p, expected["P-score"])
            self.assertEqual(one, expected["One-correct"])
            self.assertEqual(both, expected["Both-correct"])


    def test_note_f_fixtures(self):
        # scoring.note_scores takes MIDI pitches: the fixtures' Hz go through MIDI and back.
        n = 0
        for ref_f in sorted(glob.glob(os.path.join(FIX, "transcription", "ref*.txt"))):
            i = os.path.basename(ref_f)[3:5]
            expected = json.load(open(os.path.join(FIX, "transcription", "output%s.json" % i)))

            def rows(path):
                a = np.loadtxt(path, ndmin=2)
                return [[r[0], r[1], 69 + 12 * np.log2(r[2] / 440.0)] for r in a]
            got = scoring.note_scores(rows(ref_f), rows(os.path.join(FIX, "transcription", "est%s.txt" % i)))
            self.assertAlmostEqual(got["f"], expected["F-measure_no_offset"], places=6, msg=ref_f)
            self.assertAlmostEqual(got["p"], expected["Precision_no_offset"], places=6)
            self.assertAlmostEqual(got["r"], expected["Recall_no_offset"], places=6)
            self.assertAlmostEqual(got["f_offset"], expected["F-measure"], places=6)
            n += 1
        self.assertGreaterEqual(n, 5)

class TestTempo(unittest.TestCase):
    def test_acc1_acc2(self):
        s = scoring.tempo_scores(120.0, 124.0)          # +3.3 %
        self.assertEqual((s["acc1"], s["acc2"], s["acc1_1pct"]), (1.0, 1.0, 0.0))
        s = scoring.tempo_scores(120.0, 59.0)           # half, -1.7 %
        self.assertEqual((s["acc1"], s["acc2"]), (0.0, 1.0))
        s = scoring.tempo_scores(90.0, 270.0)           # triple
        self.assertEqual((s["acc1"], s["acc2"]), (0.0, 1.0))
        s = scoring.tempo_scores(120.0, 130.0)          # +8 %
        self.assertEqual((s["acc1"], s["acc2"]), (0.0, 0.0))
        s = scoring.tempo_scores(120.0, 120.9)
        self.assertEqual(s["acc1_1pct"], 1.0)

    def test_missing_estimate_scores_zero(self):
        s = scoring.tempo_scores(120.0, None)
        self.assertEqual((s["acc1"], s["acc2"], s["tempo_missing"]), (0.0, 0.0, True))
        b = scoring.beat_scores(list(np.arange(0, 30, 0.5)), None)
        self.assertEqual(b["beat_f"], 0.0)
        self.assertEqual(scoring.key_scores({"pc": 0, "mode": "major"}, None)["key_category"], "missing")

    def test_beats_offsets(self):
        ref = list(np.arange(0, 60, 0.5))
        self.assertEqual(scoring.beat_scores(ref, [t + 0.06 for t in ref])["beat_f"], 1.0)
        self.assertEqual(scoring.beat_scores(ref, [t + 0.08 for t in ref])["beat_f"], 0.0)
        off = scoring.beat_scores(ref, [t + 0.25 for t in ref])   # off-beat: AMLt accepts it
        self.assertEqual(off["cmlt"], 0.0)
        self.assertGreater(off["amlt"], 0.9)


class TestKeys(unittest.TestCase):
    def test_names(self):
        self.assertEqual(keys.pitch_class("C#"), keys.pitch_class("Db"))
        self.assertEqual(keys.pitch_class("B#"), 0)
        self.assertEqual(keys.pitch_class("Cb"), 11)
        self.assertEqual(keys.pitch_class("F♯"), 6)
        self.assertIsNone(keys.pitch_class("H"))
        self.assertEqual(keys.mir_eval_label({"pc": 3, "mode": "minor"}), "Eb minor")

    def test_categories(self):
        c = {"pc": 0, "mode": "major"}
        cat = lambda pc, mode: scoring.key_scores(c, {"pc": pc, "mode": mode})["key_category"]  # noqa: E731
        self.assertEqual(cat(0, "major"), "same")
        self.assertEqual(cat(7, "major"), "fifth")
        self.assertEqual(cat(9, "minor"), "relative")
        self.assertEqual(cat(0, "minor"), "parallel")
        self.assertEqual(cat(2, "major"), "other")

    def test_harmony_song_map(self):
        doc = {"key": {"tonic": "Db", "mode": "minor", "pitch_class": 1, "label": "Db minor"},
               "tempo": {"bpm": 120.5}, "beats": {"times_s": [0.5, 1.0]}, "downbeats": None,
               "meter": {"label": "3/4"}}
        self.assertEqual(tools.harmony_song_map_key(doc)["key"], {"pc": 1, "mode": "minor"})
        self.assertEqual(tools.harmony_song_map_key({"key": {"label": "F# major"}})["key"],
                         {"pc": 6, "mode": "major"})
        self.assertIsNone(tools.harmony_song_map_key({})["key"])
        r = tools.harmony_song_map_rhythm(doc)
        self.assertEqual((r["bpm"], r["beats"], r["downbeats"], r["meter"]), (120.5, [0.5, 1.0], None, "3/4"))
        r = tools.harmony_song_map_rhythm({"tempo": {"bpm": None}})
        self.assertIsNone(r["bpm"])

    def test_sections(self):
        ref = [[0.0, 10.0, "i"], [10.0, 30.0, "A"], [30.0, 50.0, "A"], [50.0, 60.0, "B"]]
        est = [[0.0, 10.0, "A", 0.9, "intro"], [10.0, 30.0, "B", 0.8, "verse"], [30.0, 50.0, "B", 0.8, "verse"],
               [50.0, 60.0, "C", 0.7, "bridge"]]
        sc = scoring.score_section_rows(ref, est, 60.0)
        self.assertAlmostEqual(sc["F@0.5"], 1.0)
        self.assertAlmostEqual(sc["pairwise_F"], 1.0)  # letters are compared as a clustering, not by name
        self.assertEqual((sc["intro_acc"], sc["outro_acc"]), (1.0, 1.0))
        # One boundary 1.5 s late: a miss at +-0.5 s, a hit at +-2 s.
        late = [[0.0, 11.5, "A", 0.9, "verse"]] + est[1:]
        late[1] = [11.5, 30.0, "B", 0.8, "verse"]
        sc = scoring.score_section_rows(ref, late, 60.0)
        self.assertAlmostEqual(sc["F@2"], 1.0)
        self.assertAlmostEqual(sc["F@0.5"], 0.8)  # trim=False: the file edges count (4 of 5)
        self.assertEqual(sc["intro_acc"], 0.0)
        # A reference that ends a few microseconds before the audio (4-decimal annotation times)
        # has no extra boundary at the end; a real gap (a second of silence) still is one.
        short = [r[:] for r in ref]
        short[-1] = [50.0, 59.99999, "B"]
        whole = [r[:] for r in est]
        whole[-1][1] = 60.00000544
        sc = scoring.score_section_rows(short, whole, 60.00000544)
        self.assertAlmostEqual(sc["F@0.5"], 1.0)
        gap = [r[:] for r in ref]
        gap[-1] = [50.0, 59.0, "B"]
        sc = scoring.score_section_rows(gap, est, 60.0)
        self.assertLess(sc["F@0.5"], 1.0)
        # No estimate scores 0 and is counted as missing.
        sc = scoring.score_sections({"sections": ref, "duration_s": 60.0}, {"sections": None}, ())
        self.assertEqual((sc["F@2"], sc["sections_missing"]), (0.0, True))
        doc = {"sections": {"phrases": est, "segments": est[:1]}, "audio": {"duration_s": 60.0}}
        self.assertEqual(tools.harmony_song_map_sections(doc, "phrases")["sections"], est)

    def test_chords(self):
        ref = [[0.0, 2.0, "N"], [2.0, 6.0, "C:maj"], [6.0, 10.0, "A:min7"]]
        sc = scoring.score_chord_rows(ref, ref)
        for m in scoring.CHORD_METRICS:
            self.assertAlmostEqual(sc[m], 1.0, msg=m)
        self.assertAlmostEqual(sc["weight_majmin"], 10.0)
        # A:min instead of A:min7: majmin right, sevenths wrong on that half of the chords.
        est = [[0.0, 2.0, "N"], [2.0, 6.0, "C:maj"], [6.0, 10.0, "A:min"]]
        sc = scoring.score_chord_rows(ref, est)
        self.assertAlmostEqual(sc["majmin"], 1.0)
        self.assertAlmostEqual(sc["sevenths"], 0.6)
        # An estimate that stops early is padded with N; none at all scores 0 and is counted missing.
        sc = scoring.score_chord_rows(ref, est[:2])
        self.assertAlmostEqual(sc["majmin"], 0.6)
        sc = scoring.score_chords({"chords": ref}, {"chords": None}, ())
        self.assertTrue(sc["chords_missing"])
        self.assertAlmostEqual(sc["root"], 0.2)  # the N second of the reference is right
        doc = {"chords": {"segments": [[0.0, 2.0, "C:maj", 0.9, {"name": "C"}]]}}
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump(doc, f)
            f.flush()
            self.assertEqual(tools.Harmony("chords").parse("", f.name), {"chords": [[0.0, 2.0, "C:maj"]]})


    def test_notes(self):
        ref = [[1.0, 1.5, 60], [2.0, 2.5, 62], [3.0, 4.0, 64], [5.0, 5.5, 65]]
        sc = scoring.score_notes({"melody_notes": ref, "bass_notes": None}, {"melody": ref, "bass": []}, ())
        self.assertEqual((sc["melody_f"], sc["melody_f_offset"]), (1.0, 1.0))
        self.assertNotIn("bass_f", sc)  # no bass reference (no bass track): bass is not scored
        self.assertEqual(sc["n_ref_notes"], 4)
        # Onsets 40 ms late and pitches 40 cents sharp still hit; 60 ms late or 60 cents sharp miss.
        est = [[1.04, 1.5, 60.4], [2.06, 2.5, 62], [3.0, 4.0, 64.6], [5.0, 5.5, 65]]
        sc = scoring.score_notes({"melody_notes": ref}, {"melody": est}, ())
        self.assertAlmostEqual(sc["melody_f"], 0.5)
        # Offsets: a note cut to a quarter of its length is right without offsets, wrong with them.
        est = [[1.0, 1.5, 60], [2.0, 2.5, 62], [3.0, 3.25, 64], [5.0, 5.5, 65]]
        sc = scoring.score_notes({"melody_notes": ref}, {"melody": est}, ())
        self.assertEqual(sc["melody_f"], 1.0)
        self.assertAlmostEqual(sc["melody_f_offset"], 0.75)
        # Extra notes lower precision only; a line with no estimate scores 0 and is counted missing.
        sc = scoring.score_notes({"melody_notes": ref, "bass_notes": [[1.0, 2.0, 36]]},
                                 {"melody": ref + [[7.0, 7.5, 70], [8.0, 8.5, 71], [9.0, 9.5, 72], [9.6, 9.9, 73]],
                                  "bass": None}, ())
        self.assertEqual((sc["melody_p"], sc["melody_r"]), (0.5, 1.0))
        self.assertEqual((sc["bass_f"], sc["bass_missing"]), (0.0, True))
        # The Song Map's notes part -> the estimate; the truth -> what the suite scores.
        doc = {"notes": {"melody": [[1.0, 1.5, 60, 0.9]], "bass": [[0.5, 2.0, 36, 0.8]], "melody_f0": {}}}
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump(doc, f)
            f.flush()
            self.assertEqual(tools.Harmony("notes").parse("", f.name),
                             {"melody": [[1.0, 1.5, 60.0]], "bass": [[0.5, 2.0, 36.0]]})
        self.assertEqual(tools.harmony_song_map_notes({})["melody"], None)

if __name__ == "__main__":
    unittest.main(verbosity=2)
