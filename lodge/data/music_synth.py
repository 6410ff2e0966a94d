"""Music synthesised for a dance: a genre-styled MIDI arrangement on the dance's beat grid, rendered
with fluidsynth and a General MIDI soundfont.

Notes are placed in beat units and mapped to time through the beat grid (piecewise linear between
beats), so the music's tempo follows the dance. Each `variant` draws a different key, instruments,
layer set and mix from the genre's options.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pretty_midi
import soundfile as sf

from ..audio import MARK_COLUMNS, music_features
from ..constants import FPS, SAMPLE_RATE
from .dataset import CorpusItem

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
SOUNDFONT_LICENSE = "FluidR3_GM.sf2 (Frank Wen), MIT license (Debian fluid-soundfont-gm)"

# GM drum notes
KICK, SNARE, RIM, CLAP, HAT, OPEN_HAT, RIDE, CRASH = 36, 38, 37, 39, 42, 46, 51, 49
HI_BONGO, LO_BONGO, HI_CONGA_MUTE, HI_CONGA, LO_CONGA = 60, 61, 62, 63, 64
TIMBALE_HI, COWBELL, CLAVES, WOODBLOCK, SHAKER, TAMB = 65, 56, 75, 76, 70, 54

# Scale degrees (semitones) of chords built on a progression step.
_MAJOR = [0, 2, 4, 5, 7, 9, 11]
_MINOR = [0, 2, 3, 5, 7, 8, 10]


@dataclass
class Style:
    """What a genre's arrangement is made of."""

    mode: list[int]
    progressions: list[list[int]]  # scale-degree roots, one per bar
    keys: list[int]  # MIDI root notes to choose from
    drums: list[dict[int, list[tuple[float, int]]]]  # alternatives: drum note -> [(beat in bar, velocity)]
    bass: list[int]  # GM programs
    bass_rhythm: list[list[tuple[float, int, float]]]  # alternatives: (beat, chord index, duration)
    comp: list[int]  # chord/comping programs
    comp_rhythm: list[list[tuple[float, float]]]  # alternatives: (beat, duration)
    lead: list[int]  # melody programs (empty: no melody)
    drone: list[int]  # sustained root+fifth programs (empty: none)
    bar_beats: int = 4


def _every(step: float, vel: int, bar: int = 4, offset: float = 0.0) -> list[tuple[float, int]]:
    return [(offset + k * step, vel) for k in range(int(round((bar - offset) / step)))]


STYLES: dict[str, Style] = {
    "salsa": Style(
        _MAJOR, [[0, 4, 4, 0], [0, 3, 4, 3], [1, 4, 0, 0]], [55, 57, 60, 62],
        drums=[
            # 2-3 son clave over two bars of four beats is written as a 4-beat bar of 8ths pairs
            {CLAVES: [(1.0, 100), (2.0, 100), (4.0 - 4, 0)] + [], COWBELL: _every(1.0, 80),
             HI_CONGA_MUTE: [(0.5, 60), (1.5, 50), (2.5, 60)], HI_CONGA: [(3.0, 90), (3.5, 90)],
             KICK: [(0.0, 90), (2.0, 70)]},
            {CLAVES: [(0.0, 90), (0.75, 60), (1.5, 60), (2.5, 60), (3.0, 80)],
             LO_CONGA: [(3.0, 80), (3.5, 60)], HI_CONGA_MUTE: _every(1.0, 45, offset=0.5),
             TIMBALE_HI: [(0.0, 90)], SHAKER: _every(0.5, 45)},
        ],
        bass=[32, 33], bass_rhythm=[[(1.5, 0, 0.5), (3.0, 2, 1.0)], [(0.0, 0, 1.5), (1.5, 2, 0.5), (3.0, 0, 1.0)]],
        comp=[0, 1, 4], comp_rhythm=[[(0.0, 0.5), (0.5, 0.5), (1.5, 0.5), (2.0, 0.5), (3.0, 0.5), (3.5, 0.5)],
                                     [(0.5, 0.5), (1.0, 0.5), (2.5, 0.5), (3.5, 0.5)]],
        lead=[56, 65, 73], drone=[],
    ),
    "indian": Style(
        _MINOR, [[0, 0, 0, 0], [0, 0, 6, 0]], [50, 52, 53, 55],
        drums=[
            {LO_BONGO: [(0.0, 110), (2.0, 95)], HI_BONGO: [(0.5, 70), (1.0, 85), (1.5, 60), (2.5, 70), (3.0, 90), (3.5, 60)],
             HI_CONGA_MUTE: [(1.25, 50), (3.25, 50)], TAMB: [(1.0, 40), (3.0, 40)]},
            {LO_CONGA: [(0.0, 110), (1.5, 80), (2.0, 100)], HI_BONGO: _every(0.5, 65, offset=0.5),
             WOODBLOCK: [(3.0, 70), (3.75, 60)]},
        ],
        bass=[117, 116], bass_rhythm=[[(0.0, 0, 1.0), (2.0, 0, 1.0)], [(0.0, 0, 0.5), (1.5, 0, 0.5), (2.0, 0, 1.0)]],
        comp=[104, 105, 107], comp_rhythm=[[(0.0, 1.0), (2.5, 0.5)], [(0.0, 0.5), (1.0, 0.5), (3.0, 1.0)]],
        lead=[104, 72, 79], drone=[52, 48, 109],
    ),
    "breaking": Style(
        _MINOR, [[0, 0, 5, 6], [0, 3, 0, 4], [0, 0, 0, 6]], [40, 41, 43, 45],
        drums=[
            {KICK: [(0.0, 120), (1.75, 90), (2.5, 100)], SNARE: [(1.0, 115), (3.0, 115), (3.75, 60)],
             HAT: _every(0.5, 70), OPEN_HAT: [(3.5, 80)]},
            {KICK: [(0.0, 120), (0.75, 80), (2.25, 100)], SNARE: [(1.0, 115), (2.75, 70), (3.0, 115)],
             HAT: _every(0.25, 50), CRASH: [(0.0, 60)]},
        ],
        bass=[38, 39, 34], bass_rhythm=[[(0.0, 0, 0.75), (1.75, 0, 0.25), (2.5, 2, 0.5)], [(0.0, 0, 0.5), (0.75, 0, 0.25), (2.25, 1, 0.75)]],
        comp=[61, 55, 62], comp_rhythm=[[(0.0, 0.25), (1.5, 0.25)], [(2.5, 0.25), (3.5, 0.25)]],
        lead=[], drone=[],
    ),
    "modern": Style(
        _MINOR, [[0, 5, 2, 6], [0, 3, 5, 4], [5, 3, 0, 4]], [57, 59, 60, 62],
        drums=[{}, {RIM: [(1.0, 35), (3.0, 35)], SHAKER: _every(1.0, 25, offset=0.5)}],
        bass=[42, 43, 32], bass_rhythm=[[(0.0, 0, 4.0)], [(0.0, 0, 2.0), (2.0, 2, 2.0)]],
        comp=[0, 48, 49, 46], comp_rhythm=[[(0.0, 1.0), (1.0, 1.0), (2.0, 1.0), (3.0, 1.0)], [(0.0, 2.0), (2.0, 2.0)]],
        lead=[0, 40, 73, 68], drone=[49, 89],
    ),
    "swing": Style(
        _MAJOR, [[0, 5, 1, 4], [0, 3, 0, 4], [2, 5, 1, 4]], [53, 55, 58, 60],
        drums=[
            {RIDE: [(0.0, 70), (1.0, 80), (1.67, 55), (2.0, 70), (3.0, 80), (3.67, 55)], HAT: [(1.0, 60), (3.0, 60)],
             KICK: [(0.0, 60), (2.0, 55)], SNARE: [(3.67, 40)]},
            {RIDE: _every(1.0, 75), SNARE: [(1.0, 70), (3.0, 70)], KICK: _every(1.0, 50)},
        ],
        bass=[32, 33], bass_rhythm=[[(0.0, 0, 1.0), (1.0, 1, 1.0), (2.0, 2, 1.0), (3.0, 1, 1.0)], [(0.0, 0, 1.0), (2.0, 2, 1.0)]],
        comp=[0, 2, 3], comp_rhythm=[[(1.0, 0.5), (3.0, 0.5)], [(1.0, 0.33), (1.67, 0.33), (3.0, 0.5)]],
        lead=[71, 56, 66, 65], drone=[],
    ),
    "party": Style(
        _MAJOR, [[5, 3, 0, 4], [0, 4, 5, 3], [0, 3, 4, 3]], [57, 59, 60, 62],
        drums=[
            {KICK: _every(1.0, 120), CLAP: [(1.0, 100), (3.0, 100)], OPEN_HAT: _every(1.0, 70, offset=0.5), HAT: _every(0.25, 35)},
            {KICK: _every(1.0, 115), SNARE: [(1.0, 100), (3.0, 100)], TAMB: _every(0.5, 50), CRASH: [(0.0, 50)]},
        ],
        bass=[38, 39, 33], bass_rhythm=[[(0.5, 0, 0.5), (1.5, 0, 0.5), (2.5, 0, 0.5), (3.5, 0, 0.5)], [(0.0, 0, 0.75), (1.0, 0, 0.75), (2.0, 2, 0.75), (3.0, 2, 0.75)]],
        comp=[81, 90, 88, 4], comp_rhythm=[[(0.5, 0.25), (1.5, 0.25), (2.5, 0.25), (3.5, 0.25)], [(0.0, 1.0), (2.0, 1.0)]],
        lead=[80, 81, 84], drone=[],
    ),
}


def style_for(genre: str) -> Style:
    return STYLES.get(genre, STYLES["party"])


class _Clock:
    """Beat position -> seconds through the beat grid (frames), linear between beats, extrapolated at the ends."""

    def __init__(self, grid_frames: np.ndarray) -> None:
        self.t = np.asarray(grid_frames, dtype=np.float64) / FPS
        self.k = np.arange(len(self.t), dtype=np.float64)

    def __call__(self, beat: float) -> float:
        if beat <= 0:
            return float(self.t[0] + beat * (self.t[1] - self.t[0]))
        if beat >= self.k[-1]:
            return float(self.t[-1] + (beat - self.k[-1]) * (self.t[-1] - self.t[-2]))
        return float(np.interp(beat, self.k, self.t))


def _chord(root_note: int, mode: list[int], degree: int) -> list[int]:
    """Triad (root, third, fifth) on a scale degree."""
    notes = []
    for step in (0, 2, 4):
        d = degree + step
        notes.append(root_note + mode[d % 7] + 12 * (d // 7))
    return notes


def arrange(grid_frames: np.ndarray, genre: str, variant: int, seed: int = 0) -> tuple[pretty_midi.PrettyMIDI, dict]:
    """A genre-styled arrangement on the beat grid. Returns the MIDI and a description of the choices."""
    style = style_for(genre)
    rng = np.random.default_rng((seed, variant, sum(map(ord, genre))))
    clock = _Clock(grid_frames)
    n_beats = len(grid_frames)
    pick = lambda seq: seq[int(rng.integers(len(seq)))]  # noqa: E731
    key = int(pick(style.keys))
    prog = pick(style.progressions)
    drums = pick(style.drums)
    bass_prog, bass_rhythm = int(pick(style.bass)), pick(style.bass_rhythm)
    comp_prog, comp_rhythm = int(pick(style.comp)), pick(style.comp_rhythm)
    lead_prog = int(pick(style.lead)) if style.lead and rng.random() < 0.8 else None
    drone_prog = int(pick(style.drone)) if style.drone else None
    gains = {name: float(rng.uniform(0.55, 1.0)) for name in ("drums", "bass", "comp", "lead", "drone")}
    desc = {"genre": genre, "variant": variant, "key": key, "progression": prog, "bass": bass_prog,
            "comp": comp_prog, "lead": lead_prog, "drone": drone_prog, "gains": gains}

    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    drum_inst = pretty_midi.Instrument(0, is_drum=True, name="drums")
    bass = pretty_midi.Instrument(bass_prog, name="bass")
    comp = pretty_midi.Instrument(comp_prog, name="comp")
    lead = pretty_midi.Instrument(lead_prog or 0, name="lead")
    drone = pretty_midi.Instrument(drone_prog or 0, name="drone")

    def note(inst, pitch, b0, dur, vel, gain):
        s, e = clock(b0), clock(b0 + dur)
        if e > s:
            inst.notes.append(pretty_midi.Note(int(np.clip(vel * gain, 1, 127)), int(pitch), s, e))

    bars = int(np.ceil(n_beats / style.bar_beats)) + 1
    melody_pitch = key + 12
    for bar in range(-1, bars):
        b0 = bar * style.bar_beats
        chord = _chord(key, style.mode, prog[bar % len(prog)])
        for drum, hits in drums.items():
            for pos, vel in hits:
                if vel > 0:
                    note(drum_inst, drum, b0 + pos, 0.1, vel, gains["drums"])
        # The grid beats the dance marks get an extra low accent, so they are the music's strongest onsets.
        for pos in range(style.bar_beats):
            note(drum_inst, KICK if genre != "modern" else LO_CONGA, b0 + pos, 0.1, 120 if pos % 2 == 0 else 105, 1.0)
        for pos, idx, dur in bass_rhythm:
            note(bass, chord[idx] - 24, b0 + pos, dur * 0.9, 100, gains["bass"])
        for pos, dur in comp_rhythm:
            for p in chord:
                note(comp, p, b0 + pos, dur * 0.9, 75, gains["comp"])
        if drone_prog is not None and bar % 2 == 0:
            for p in (key - 12, key - 5):
                note(drone, p, b0, 2 * style.bar_beats, 60, gains["drone"])
        if lead_prog is not None:
            for step in range(8):
                if rng.random() < 0.55:
                    target = chord[int(rng.integers(3))] + 12
                    melody_pitch = int(melody_pitch + np.clip(target - melody_pitch, -4, 4))
                    note(lead, melody_pitch, b0 + 0.5 * step, 0.45 * (1 + int(rng.integers(2))), 85, gains["lead"])
    for inst in (drum_inst, bass, comp, lead, drone):
        inst.notes = [n for n in inst.notes if n.start >= 0]
        if inst.notes:
            pm.instruments.append(inst)
    return pm, desc


def render_midi(pm: pretty_midi.PrettyMIDI, seconds: float, sr: int = SAMPLE_RATE, reverb: bool = True) -> np.ndarray:
    """Render with the fluidsynth command and the GM soundfont; mono float32 of exactly `seconds`, peak 0.9."""
    exe = shutil.which("fluidsynth")
    if exe is None or not SOUNDFONT.exists():
        raise RuntimeError("fluidsynth and /usr/share/sounds/sf2/FluidR3_GM.sf2 are needed (Debian: fluidsynth fluid-soundfont-gm)")
    with tempfile.TemporaryDirectory() as tmp:
        mid, wav = Path(tmp) / "m.mid", Path(tmp) / "m.wav"
        pm.write(str(mid))
        cmd = [exe, "-ni", "-q", "-g", "0.6", "-r", str(sr), "-F", str(wav),
               "-o", f"synth.reverb.active={int(reverb)}", "-o", "synth.chorus.active=0", str(SOUNDFONT), str(mid)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        audio, file_sr = sf.read(wav, dtype="float32", always_2d=True)
    assert file_sr == sr
    wave = audio.mean(1)
    n = int(round(seconds * sr))
    wave = np.pad(wave, (0, max(0, n - len(wave))))[:n]
    peak = float(np.abs(wave).max())
    return (0.9 * wave / peak).astype(np.float32) if peak > 0 else wave


def synthesize(grid_frames: np.ndarray, n_frames: int, genre: str, variant: int, seed: int = 0) -> tuple[np.ndarray, dict]:
    """Music for a dance of `n_frames` on its beat grid: (mono wave at 15360 Hz, description)."""
    pm, desc = arrange(grid_frames, genre, variant, seed)
    reverb = bool(variant % 2 == 0)
    desc["reverb"] = reverb
    return render_midi(pm, n_frames / FPS, reverb=reverb), desc


# The corpus renders variants 0 and 1 of every synthesised piece; no network has heard a higher one.
FRESH_VARIANT = 2


def fresh_music(item: CorpusItem, seed: int = 0) -> CorpusItem:
    """The item with new music: an arrangement no network trained on (variant ``FRESH_VARIANT``, drawn
    from the item's id and ``seed``), rendered on the beats of the item's own music, whatever that
    music was. The dance is kept, so what was measured on the item's music can be measured again on
    music that is new to the networks, as a user's song is. Deterministic; needs fluidsynth."""
    beats = np.flatnonzero(item.music[:, MARK_COLUMNS[1]] > 0.5).astype(np.float64)
    if len(beats) < 2:  # no beat grid to play on: a steady 100 bpm
        beats = np.arange(0.0, len(item), 0.6 * FPS)
    wave, _ = synthesize(beats, len(item), item.genre, FRESH_VARIANT, seed=zlib.crc32(f"{item.item_id}/{seed}".encode()))
    features = music_features(wave).features[: len(item)]
    music = item.music.copy()
    music[: len(features)] = features
    return replace(item, music=music)
