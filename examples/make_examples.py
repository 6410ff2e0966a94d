"""Compose and render the example songs in this folder (deterministic).

Each song is written note by note here (our own compositions, CC0), saved as MIDI with pretty_midi,
rendered with fluidsynth and the FluidR3_GM soundfont, peak-normalised and encoded to 128 kbps mp3
with ffmpeg. Run from the repository root:

    python examples/make_examples.py [--out examples] [--check]

Needs: pretty_midi, fluidsynth, /usr/share/sounds/sf2/FluidR3_GM.sf2 (Debian fluid-soundfont-gm), ffmpeg.
`--check` also runs lodge's beat tracker on each result and prints the tempo it finds.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pretty_midi
import soundfile as sf

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
RENDER_RATE = 44100

# General MIDI programs (0-based) and drum keys used below.
PIANO, EPIANO, VIBES, ACOUSTIC_BASS, FINGER_BASS, TRUMPET, BRASS = 0, 4, 11, 32, 33, 56, 61
KICK, RIM, SNARE, CLAP, HAT, PEDAL_HAT, OPEN_HAT, CRASH, RIDE = 36, 37, 38, 39, 42, 44, 46, 49, 51
COWBELL, MUTE_CONGA, OPEN_CONGA, LOW_CONGA, CLAVES, SHAKER = 56, 62, 63, 64, 75, 70

NOTE = {"C": 0, "C#": 1, "Db": 1, "D": 2, "Eb": 3, "E": 4, "F": 5, "F#": 6, "Gb": 6, "G": 7, "Ab": 8,
        "A": 9, "Bb": 10, "B": 11}
QUALITY = {"": (0, 4, 7), "m": (0, 3, 7), "7": (0, 4, 7, 10), "m7": (0, 3, 7, 10), "maj7": (0, 4, 7, 11),
           "m9": (0, 3, 7, 10, 14), "6": (0, 4, 7, 9), "dim7": (0, 3, 6, 9)}


def chord(name: str) -> tuple[int, list[int]]:
    """Root pitch class and interval list of a chord symbol like 'Am7' or 'Bb'."""
    root = name[:2] if len(name) > 1 and name[1] in "#b" else name[:1]
    return NOTE[root], list(QUALITY[name[len(root):]])


def voicing(name: str, low: int, high: int) -> list[int]:
    """All chord tones of `name` between MIDI pitches low..high."""
    root, ivs = chord(name)
    pcs = {(root + i) % 12 for i in ivs}
    return [p for p in range(low, high + 1) if p % 12 in pcs]


@dataclass
class Song:
    """A piece under construction: times in beats, converted to seconds on output."""

    bpm: float
    swing: float = 0.0  # 0 = straight; 1/3 moves each off-beat eighth to the triplet position
    tracks: dict[str, pretty_midi.Instrument] = field(default_factory=dict)

    def time(self, beat: float) -> float:
        whole, frac = divmod(beat, 1.0)
        if self.swing and abs(frac - 0.5) < 1e-6:
            frac = 0.5 + self.swing / 2
        return (whole + frac) * 60.0 / self.bpm

    def track(self, name: str, program: int = 0, drums: bool = False) -> pretty_midi.Instrument:
        if name not in self.tracks:
            self.tracks[name] = pretty_midi.Instrument(program=program, is_drum=drums, name=name)
        return self.tracks[name]

    def note(self, name: str, pitch: int, beat: float, length: float, vel: int) -> None:
        start = self.time(beat)
        end = max(start + 0.03, self.time(beat + length) - 0.01)
        self.tracks[name].notes.append(pretty_midi.Note(int(np.clip(vel, 1, 127)), int(pitch), start, end))

    def hit(self, key: int, beat: float, vel: int) -> None:
        self.note("drums", key, beat, 0.25, vel)

    def midi(self) -> pretty_midi.PrettyMIDI:
        pm = pretty_midi.PrettyMIDI(initial_tempo=self.bpm)
        pm.instruments.extend(self.tracks.values())
        return pm


def melody_line(song: Song, name: str, bars: list[str], rhythm: list[tuple[float, float]], start_bar: int,
                rng: np.random.Generator, low: int, high: int, vel: int, beats_per_chord: int = 4) -> None:
    """A stepwise melody over a chord per bar: chord tones on strong beats, neighbours between."""
    prev = (low + high) // 2
    for b, name_ in enumerate(bars):
        tones = voicing(name_, low, high)
        for pos, length in rhythm:
            strong = pos in (0.0, 2.0)
            if strong:
                cands = tones
            else:
                cands = [p for p in range(low, high + 1) if (p % 12) in (0, 2, 4, 5, 7, 9, 11)]
            step = int(rng.choice([-4, -2, -1, 1, 2, 3]))
            target = prev + step
            pitch = min(cands, key=lambda p: (abs(p - target), p))
            beat = (start_bar + b) * beats_per_chord + pos
            song.note(name, pitch, beat, length, vel + (8 if strong else 0) + int(rng.integers(-6, 6)))
            prev = pitch


# ----------------------------------------------------------------------------- the three songs

def salsa() -> Song:
    """'Clave del Puerto': son montuno in C, 3-2 clave, 180 BPM (two bars of clave per loop)."""
    s = Song(bpm=180)
    s.track("piano", PIANO), s.track("bass", ACOUSTIC_BASS), s.track("trumpet", TRUMPET)
    s.track("drums", drums=True)
    rng = np.random.default_rng(1)
    loop = ["C", "F", "G7", "F"]  # two beats each, a two-bar loop
    n_bars = 14
    for bar in range(n_bars):
        b0 = bar * 4
        # Percussion: clave (3-2), campana on every beat, conga tumbao, shaker eighths.
        clave = [0, 1.5, 3] if bar % 2 == 0 else [1, 2]
        for c in clave:
            s.hit(CLAVES, b0 + c, 100)
        for q in range(4):
            s.hit(COWBELL, b0 + q, 105 if q in (0, 2) else 80)
            s.hit(KICK, b0 + q, 70 if q in (0, 2) else 45)
        s.hit(MUTE_CONGA, b0 + 1, 90)
        s.hit(OPEN_CONGA, b0 + 3, 100)
        s.hit(OPEN_CONGA, b0 + 3.5, 95)
        s.hit(LOW_CONGA, b0 + 2.5, 80)
        for e in range(8):
            s.hit(SHAKER, b0 + e / 2, 55 + (15 if e % 2 == 0 else 0))
        # Piano montuno: continuous eighths, the next chord anticipated one eighth early.
        for e in range(8):
            beat = b0 + e / 2
            idx = int(((bar % 2) * 4 + e / 2 + 0.5) // 2) % 4
            tones = voicing(loop[idx], 64, 79)
            top = tones[-1] if e % 2 == 0 else tones[len(tones) // 2]
            pitches = [top, top - 12] if e % 2 == 0 else [tones[0], tones[len(tones) // 2]]
            for p in pitches:
                s.note("piano", p, beat, 0.45, 88 if e % 2 == 0 else 70)
        # Bass tumbao: anticipated root on the 'and' of 2 and on 4.
        for pos, ahead in ((1.5, 1), (3.0, 2)):
            idx = ((bar % 2) * 2 + ahead) % 4
            root = chord(loop[idx])[0]
            s.note("bass", 36 + root, b0 + pos, 1.4 if pos == 1.5 else 1.0, 100)
    # Trumpet: a call in bars 4-7 and 10-13.
    rhythm = [(0.0, 1.0), (1.5, 0.5), (2.0, 1.0), (3.0, 0.5), (3.5, 0.5)]
    bars = ["C", "G7", "C", "F"]
    melody_line(s, "trumpet", bars, rhythm, 4, rng, 67, 84, 92)
    melody_line(s, "trumpet", bars, rhythm, 10, rng, 67, 84, 96)
    # Final hit.
    end = n_bars * 4
    for p in voicing("C", 48, 76):
        s.note("piano", p, end, 2, 100)
    s.note("bass", 36, end, 2, 110)
    s.hit(CRASH, end, 110), s.hit(COWBELL, end, 110), s.hit(KICK, end, 110)
    return s


def hiphop() -> Song:
    """'Basement Tape': a boom-bap breakbeat in A minor, 95 BPM."""
    s = Song(bpm=95)
    s.track("keys", EPIANO), s.track("bass", FINGER_BASS), s.track("lead", VIBES)
    s.track("drums", drums=True)
    rng = np.random.default_rng(2)
    prog = ["Am7", "Fmaj7", "Dm7", "E7"]
    n_bars = 8
    for bar in range(n_bars):
        b0 = bar * 4
        name = prog[bar % 4]
        # Drums: kick on 1, the 'a' of 2 and the 'and' of 3; snare (with clap) on 2 and 4; 16th hats.
        for k in (0, 1.75, 2.5) if bar % 2 == 0 else (0, 0.75, 2.5, 3.25):
            s.hit(KICK, b0 + k, 118)
        for sn in (1, 3):
            s.hit(SNARE, b0 + sn, 115)
            s.hit(CLAP, b0 + sn, 70)
        for i in range(16):
            if i == 14:
                s.hit(OPEN_HAT, b0 + i / 4, 80)
            elif i % 2 == 0 or rng.random() < 0.3:
                s.hit(HAT, b0 + i / 4, 90 if i % 4 == 0 else 60)
        if bar % 4 == 3:
            s.hit(SNARE, b0 + 3.75, 70)
        # Electric piano: chord on 1, stab on the 'and' of 2.
        tones = voicing(name, 55, 72)
        for p in tones:
            s.note("keys", p, b0, 1.4, 80)
            s.note("keys", p, b0 + 2.5, 1.0, 70)
        # Bass follows the kick.
        root = 33 + (chord(name)[0] - 9) % 12
        for pos, length in ((0, 1.5), (1.75, 0.5), (2.5, 1.0), (3.5, 0.5)):
            p = root + (12 if pos == 3.5 else 0)
            s.note("bass", p, b0 + pos, length, 105)
    # Vibraphone hook from bar 4 on.
    rhythm = [(0.0, 0.75), (0.75, 0.75), (1.5, 0.5), (2.0, 1.0), (3.0, 0.5)]
    melody_line(s, "lead", prog, rhythm, 4, rng, 69, 86, 85)
    end = n_bars * 4
    s.hit(KICK, end, 118), s.hit(CRASH, end, 100)
    for p in voicing("Am7", 45, 72):
        s.note("keys", p, end, 3, 80)
    s.note("bass", 33, end, 2, 105)
    return s


def ragtime() -> Song:
    """'Maple Street Shuffle': swung stride piano over a ragtime progression in C, 140 BPM."""
    s = Song(bpm=140, swing=1 / 3)
    s.track("left", PIANO), s.track("right", PIANO), s.track("bass", ACOUSTIC_BASS)
    s.track("drums", drums=True)
    rng = np.random.default_rng(3)
    prog = ["C", "A7", "D7", "G7", "C", "C7", "F", "F", "C", "A7", "D7", "G7"]
    for bar, name in enumerate(prog):
        b0 = bar * 4
        root = chord(name)[0]
        # Stride left hand: bass octave on 1 and 3, chord on 2 and 4.
        for q, bass in ((0, 36 + root), (2, 36 + (root + 7) % 12)):
            s.note("left", bass, b0 + q, 0.9, 95)
            s.note("left", bass + 12, b0 + q, 0.9, 80)
            s.note("bass", bass, b0 + q, 1.8, 100)
        for q in (1, 3):
            for p in voicing(name, 52, 64)[:4]:
                s.note("left", p, b0 + q, 0.7, 72)
        # Drums: swung ride, hi-hat pedal on 2 and 4, feathered kick on every beat.
        for r in (0, 1, 1.5, 2, 3, 3.5):
            s.hit(RIDE, b0 + r, 75 if r in (1, 3) else 60)
        for q in range(4):
            s.hit(KICK, b0 + q, 60)
        for q in (1, 3):
            s.hit(PEDAL_HAT, b0 + q, 85)
            s.hit(RIM, b0 + q, 55)
    # Right hand: syncopated swung melody, repeated phrase shape with variation.
    rhythm = [(0.0, 0.5), (0.5, 1.0), (1.5, 0.5), (2.0, 0.5), (2.5, 1.0), (3.5, 0.5)]
    melody_line(s, "right", prog, rhythm, 0, rng, 67, 86, 88)
    end = len(prog) * 4
    for p in voicing("C6", 48, 84):
        s.note("right", p, end, 2, 100)
    s.note("bass", 36, end, 2, 105), s.hit(CRASH, end, 100), s.hit(KICK, end, 100)
    return s


SONGS = {
    "salsa_clave_del_puerto_180bpm": salsa,
    "hiphop_basement_tape_95bpm": hiphop,
    "ragtime_maple_street_shuffle_140bpm": ragtime,
}
TITLES = {
    "salsa_clave_del_puerto_180bpm": "Clave del Puerto",
    "hiphop_basement_tape_95bpm": "Basement Tape",
    "ragtime_maple_street_shuffle_140bpm": "Maple Street Shuffle",
}


# ----------------------------------------------------------------------------- rendering

def render(song: Song, out_mp3: Path, title: str) -> None:
    """MIDI -> fluidsynth wav -> peak-normalised, faded -> 128 kbps mp3."""
    with tempfile.TemporaryDirectory() as tmp:
        mid, raw, clean = Path(tmp) / "song.mid", Path(tmp) / "raw.wav", Path(tmp) / "clean.wav"
        song.midi().write(str(mid))
        subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.5", "-F", str(raw), "-r", str(RENDER_RATE),
                        str(SOUNDFONT), str(mid)], check=True, stdout=subprocess.DEVNULL)
        wave, sr = sf.read(raw, dtype="float32", always_2d=True)
        end_s = song.midi().get_end_time() + 1.0  # let the last chord ring, cut the long reverb tail
        wave = wave[: int(end_s * sr)]
        fade = int(0.8 * sr)
        wave[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None]
        wave *= 0.89 / max(float(np.abs(wave).max()), 1e-6)  # -1 dBFS peak
        sf.write(clean, wave, sr, subtype="PCM_16")
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(clean), "-map_metadata", "-1",
                        "-fflags", "+bitexact", "-flags:a", "+bitexact", "-c:a", "libmp3lame", "-b:a", "128k",
                        "-metadata", f"title={title}", "-metadata", "artist=Lodge Studio",
                        "-metadata", "copyright=CC0 1.0 (public domain dedication)",
                        str(out_mp3)], check=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    ap.add_argument("--check", action="store_true", help="print the tempo and beats lodge finds")
    args = ap.parse_args(argv)
    for tool in ("fluidsynth", "ffmpeg"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed")
    if not SOUNDFONT.exists():
        sys.exit(f"soundfont not found: {SOUNDFONT} (apt-get install fluid-soundfont-gm)")
    args.out.mkdir(parents=True, exist_ok=True)
    for name, make in SONGS.items():
        song = make()
        path = args.out / f"{name}.mp3"
        render(song, path, TITLES[name])
        line = f"{path.name}: {path.stat().st_size / 1024:.0f} KB"
        if args.check:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
            from lodge.audio import analyze_music

            f = analyze_music(path)
            # Compare with the written beat grid; the tracker may pick half or double the written
            # tempo (90 vs 180 BPM is the same pulse). The lag is the sound's attack plus the onset
            # detector's latency.
            step = 60.0 * 30 / song.bpm
            lag = f.beats - np.round(f.beats / step) * step
            ok = np.abs(lag - np.median(lag)) <= 1
            line += (f", {f.seconds:.1f} s, written {song.bpm:g} BPM, tracked {f.tempo:.1f} BPM, "
                     f"{len(f.beats)} beats, lag {np.median(lag):+.1f} frames, "
                     f"{np.mean(ok):.0%} within 1 frame of the lagged grid")
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
