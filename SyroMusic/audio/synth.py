"""Short musical pieces made from a seed: the demo's songs and the test fixtures' audio (numpy, no files).

A seed picks a key and mode, a tempo, a chord progression, a two-bar melodic motif, the timbres of a
pad, a bass, a lead and sometimes an arpeggio, and a soft drum pattern. Everything is rendered with
vectorised numpy (wavetables and FM, one array per note), so a 30-second stereo piece takes a few
hundredths of a second. The same seed always gives the same samples.
"""

import math
import random

import numpy as np

# Peaks are normalised to -3 dBFS: room for a lossy encoder's overshoot, never clipped.
PEAK = 10 ** (-3 / 20)
TABLE_SIZE = 4096

MODES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
}
# Chord roots as scale degrees (0 = the tonic), a bar or two each, loved progressions of each mode.
PROGRESSIONS = {
    "major": ((0, 4, 5, 3), (0, 5, 3, 4), (5, 3, 0, 4), (0, 3, 0, 4), (1, 4, 0, 5), (0, 3, 5, 4), (0, 2, 3, 4)),
    "minor": ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 5, 3, 4), (0, 3, 6, 2), (5, 6, 0, 0)),
    "dorian": ((0, 3, 0, 3), (0, 1, 0, 3), (0, 6, 3, 0)),
    "mixolydian": ((0, 6, 3, 0), (0, 6, 0, 3), (0, 3, 6, 3)),
    "lydian": ((0, 1, 0, 1), (0, 1, 4, 0), (0, 4, 1, 5)),
}
# Harmonic amplitudes of the pad's wavetable: warm, hollow (odd harmonics), glassy, bowed.
PAD_TIMBRES = (
    (1.0, 0.45, 0.2, 0.1, 0.05),
    (1.0, 0.0, 0.4, 0.0, 0.22, 0.0, 0.12),
    (1.0, 0.1, 0.32, 0.0, 0.12, 0.0, 0.0, 0.05),
    tuple(0.9 / n for n in range(1, 10)),
)
# One bar of the melody's rhythm, in beats.
RHYTHMS = (
    (1, 1, 1, 1), (2, 1, 1), (1, 1, 2), (1.5, 0.5, 2), (0.5, 0.5, 1, 2), (1, 0.5, 0.5, 2), (3, 1), (1.5, 1.5, 1),
    (0.5, 0.5, 0.5, 0.5, 2), (2, 2), (1, 1, 1.5, 0.5),
)
BASS_PATTERNS = (
    ((0, 4, 0),),  # (beat, beats long, interval above the root in scale steps)
    ((0, 2, 0), (2, 2, 0)),
    ((0, 1.5, 0), (1.5, 0.5, 0), (2, 2, 4)),
    ((0, 1, 0), (1, 1, 0), (2, 1, 4), (3, 1, 0)),
    ((0, 0.75, 0), (0.75, 0.75, 0), (1.5, 0.5, 7), (2, 2, 4)),
)


def midi_hz(note):
    return 440.0 * 2 ** ((note - 69) / 12)


def piece(seed, *, seconds, sample_rate=44100, channels=2):
    """A short musical piece: float32 samples, shape (channels, samples), peaks at -3 dBFS.

    Different seeds give different keys, tempi, progressions, melodies and timbres; the same seed
    gives the same samples. Fades in and out gently.
    """
    if seconds <= 0:
        raise ValueError("seconds must be positive")
    if channels not in (1, 2):
        raise ValueError("channels must be 1 or 2")
    length = max(1, round(seconds * sample_rate))
    arrangement = Arrangement(seed, seconds=seconds)
    mix = Mixer(length, sample_rate, np.random.default_rng(seed))
    arrangement.render(mix)
    stereo = mix.master()
    stereo = _fade(stereo, sample_rate, fade_in=min(0.25, seconds / 8), fade_out=min(2.5, seconds * 0.15))
    samples = stereo if channels == 2 else stereo.mean(axis=0, keepdims=True)
    peak = float(np.abs(samples).max())
    if peak > 0:
        samples = samples * (PEAK / peak)
    return np.ascontiguousarray(samples, dtype=np.float32)


def phrase_times(seed, *, seconds):
    """The phrases of piece(seed, seconds=seconds)'s melody as (start, length) in seconds: where sung lines
    would go (the demo's synced lyrics follow them)."""
    arrangement = Arrangement(seed, seconds=seconds)
    return [(bar * arrangement.bar, 2 * arrangement.bar) for bar in arrangement.phrase_bars()]


def tone(*, seconds, frequency=440.0, sample_rate=22050, channels=1):
    """A plain sine at -6 dBFS with 10 ms ramps at each end: the quickest test signal."""
    length = max(1, round(seconds * sample_rate))
    t = np.arange(length) / sample_rate
    signal = 0.5 * np.sin(2 * np.pi * frequency * t)
    ramp = max(1, min(length // 2, int(0.01 * sample_rate)))
    signal[:ramp] *= np.linspace(0, 1, ramp)
    signal[-ramp:] *= np.linspace(1, 0, ramp)
    return np.ascontiguousarray(np.tile(signal, (channels, 1)), dtype=np.float32)


def _fade(samples, sample_rate, *, fade_in, fade_out):
    length = samples.shape[1]
    fade_in_length = min(length, max(1, int(fade_in * sample_rate)))
    fade_out_length = min(length, max(1, int(fade_out * sample_rate)))
    samples[:, :fade_in_length] *= np.linspace(0, 1, fade_in_length) ** 2
    # An equal-power-ish curve: the ending sounds like a fade, not a cut.
    samples[:, length - fade_out_length :] *= np.cos(np.linspace(0, np.pi / 2, fade_out_length)) ** 2
    return samples


class Mixer:
    """Two buses (dry and echoed) of stereo samples that notes are added into."""

    def __init__(self, length, sample_rate, noise):
        self.length = length
        self.sample_rate = sample_rate
        self.noise = noise
        self.dry = np.zeros((2, length), dtype=np.float32)
        self.wet = np.zeros((2, length), dtype=np.float32)
        self.echo_delay = 0.375
        self.echo_feedback = 0.35
        self._clock = np.zeros(0, dtype=np.float32)
        self._envelopes = {}

    def time(self, length):
        """Seconds since a note's start, for `length` samples (float32; notes are short)."""
        if self._clock.size < length:
            self._clock = (np.arange(max(length, 2 * self._clock.size)) / self.sample_rate).astype(np.float32)
        return self._clock[:length]

    def envelope(self, shape, length, **parameters):
        """An envelope (_adsr or _pluck) of `length` samples, computed once per shape, length and parameters."""
        key = (shape, length, *sorted(parameters.items()))
        if key not in self._envelopes:
            self._envelopes[key] = shape(self.time(length), length / self.sample_rate, **parameters)
        return self._envelopes[key]

    def add(self, start, signal, *, gain=1.0, pan=0.0, echo=False):
        """Add a mono (or (2, n) stereo) signal at `start` seconds, panned from -1 (left) to 1 (right)."""
        first = int(start * self.sample_rate)
        if first >= self.length:
            return
        count = min(signal.shape[-1], self.length - first)
        bus = self.wet if echo else self.dry
        if signal.ndim == 2:
            bus[:, first : first + count] += np.float32(gain) * signal[:, :count]
            return
        angle = (pan + 1) * math.pi / 4
        bus[0, first : first + count] += np.float32(gain * math.cos(angle)) * signal[:count]
        bus[1, first : first + count] += np.float32(gain * math.sin(angle)) * signal[:count]

    def master(self):
        delay = max(1, int(self.echo_delay * self.sample_rate))
        out = self.dry + self.wet
        # A ping-pong echo: each repeat is quieter and swaps sides.
        for repeat in range(1, 5):
            shift = delay * repeat
            if shift >= self.length:
                break
            level = np.float32(0.5 * self.echo_feedback ** (repeat - 1))
            source = self.wet[::-1] if repeat % 2 else self.wet
            out[:, shift:] += level * source[:, : self.length - shift]
        return out


class Arrangement:
    """What a seed plays: key, tempo, chords, motif and voices, decided once, then rendered."""

    def __init__(self, seed, *, seconds):
        rng = random.Random(seed)
        self.rng = rng
        self.seconds = seconds
        self.mode = rng.choice(sorted(MODES))
        self.scale = MODES[self.mode]
        self.tonic = rng.randint(50, 61)  # D3 to C#4: the pad sits around middle C
        self.beat = 60.0 / rng.randint(72, 118)
        self.bar = 4 * self.beat
        self.bars_per_chord = rng.choice((1, 1, 2)) if self.bar < 2.6 else 1
        self.progression = rng.choice(PROGRESSIONS[self.mode])
        self.sevenths = rng.random() < 0.4
        self.pad_timbre = rng.choice(PAD_TIMBRES)
        self.pad_attack = rng.uniform(0.08, 0.6)
        self.lead = rng.choice(("bell", "piano", "flute", "reed"))
        # Bells and reeds an octave up would be shrill: only the softer leads may sing there.
        self.lead_octave = rng.choice((12, 12, 24)) if self.lead in ("flute", "piano") else 12
        self.bass_pattern = rng.choice(BASS_PATTERNS)
        self.arpeggio = rng.choice((None, None, 2, 4))  # notes per beat
        self.drums = rng.choice(("none", "soft", "soft", "four", "shaker"))
        self.swing = rng.choice((0.0, 0.0, 0.08))
        self.motif = self.make_motif()
        self.bars = max(1, math.ceil(seconds / self.bar))
        self.intro = 1 if seconds >= 12 else 0

    def degree_note(self, degree, octave_shift=0):
        """The MIDI note of scale degree `degree` (any integer: 7 is the tonic an octave up)."""
        octave, step = divmod(degree, len(self.scale))
        return self.tonic + 12 * (octave + octave_shift) + self.scale[step]

    def chord_degrees(self, bar):
        root = self.progression[(bar // self.bars_per_chord) % len(self.progression)]
        degrees = [root, root + 2, root + 4]
        if self.sevenths:
            degrees.append(root + 6)
        return degrees

    def make_motif(self):
        """Two bars of melody: (beat, beats long, step from the previous note, accent)."""
        rng = self.rng
        notes = []
        for bar in range(2):
            beat = 4.0 * bar
            for length in rng.choice(RHYTHMS):
                step = rng.choices((-3, -2, -1, 0, 1, 2, 3, 4), weights=(0.4, 1.2, 3, 1, 3, 1.2, 0.5, 0.3))[0]
                notes.append((beat, length, step, beat % 2 == 0))
                beat += length
        return notes

    def render(self, mix):
        self.render_pad(mix)
        self.render_bass(mix)
        if self.arpeggio:
            self.render_arpeggio(mix)
        self.render_melody(mix)
        if self.drums != "none":
            self.render_drums(mix)

    def render_pad(self, mix):
        table = _wavetable(self.pad_timbre)
        for bar in range(0, self.bars, self.bars_per_chord):
            start = bar * self.bar
            length = self.bars_per_chord * self.bar
            samples = int((length + 0.8) * mix.sample_rate)
            chord = np.zeros((2, samples), dtype=np.float32)
            for index, degree in enumerate(self.chord_degrees(bar)):
                frequency = midi_hz(self.degree_note(degree))
                gain = np.float32(0.12 if index == 0 else 0.1)
                # Two slightly detuned copies, one a side: a wide, gently beating chorus.
                chord[0] += gain * _table_note(table, frequency * 0.998, samples, mix.sample_rate)
                chord[1] += gain * _table_note(table, frequency * 1.002, samples, mix.sample_rate)
            chord *= mix.envelope(_adsr, samples, attack=self.pad_attack, decay=1.5, sustain=0.7, release=0.8)
            mix.add(start, chord)

    def render_bass(self, mix):
        table = _wavetable((1.0, 0.35, 0.12))
        for bar in range(self.bars):
            root = self.chord_degrees(bar)[0]
            for beat, beats, interval in self.bass_pattern:
                frequency = midi_hz(self.degree_note(root + interval, octave_shift=-2 if root + interval < 5 else -3))
                duration = beats * self.beat
                samples = int((duration + 0.05) * mix.sample_rate)
                signal = _table_note(table, frequency, samples, mix.sample_rate)
                signal *= mix.envelope(_pluck, samples, decay=max(0.25, duration * 0.8), release=0.05)
                mix.add(bar * self.bar + beat * self.beat, signal, gain=0.34)

    def render_arpeggio(self, mix):
        table = _wavetable((1.0, 0.0, 0.3, 0.0, 0.1))
        step = self.beat / self.arpeggio
        for bar in range(self.intro, self.bars):
            degrees = self.chord_degrees(bar)
            for index in range(4 * self.arpeggio):
                degree = degrees[index % len(degrees)] + (len(self.scale) if (index // len(degrees)) % 2 else 0)
                samples = int(step * 1.5 * mix.sample_rate)
                signal = _table_note(table, midi_hz(self.degree_note(degree, 1)), samples, mix.sample_rate)
                signal *= mix.envelope(_pluck, samples, decay=0.12, release=0.02)
                level = 0.07 if index % self.arpeggio == 0 else 0.05
                mix.add(bar * self.bar + index * step, signal, gain=level, pan=0.45, echo=True)

    def phrase_bars(self):
        """The bars where the melody starts its motif: after the intro, two bars apart, every fourth
        motif resting so the melody breathes."""
        first_bar = self.intro + (1 if self.bars > 6 else 0)
        return [bar for bar in range(first_bar, self.bars, 2) if (bar - first_bar) % 8 != 6]

    def render_melody(self, mix):
        rng = random.Random(self.rng.random())
        for phrase_bar in self.phrase_bars():
            degree = rng.choice(self.chord_degrees(phrase_bar)) + len(self.scale)
            for beat, beats, step, accent in self.motif:
                bar = phrase_bar + int(beat // 4)
                if bar >= self.bars:
                    break
                degree += step
                chord = self.chord_degrees(bar)
                if accent:
                    # Strong beats land on a chord tone: the melody belongs to the harmony.
                    degree = min(
                        (tone + octave * len(self.scale) for tone in chord for octave in (0, 1, 2)),
                        key=lambda candidate: (abs(candidate - degree), candidate),
                    )
                degree = min(max(degree, 4), 2 * len(self.scale) + 1)
                start = phrase_bar * self.bar + beat * self.beat
                if self.swing and beat % 1:
                    start += self.swing * self.beat
                velocity = (1.0 if accent else 0.8) * rng.uniform(0.85, 1.0)
                note = self.degree_note(degree) + self.lead_octave - 12
                self.play_lead(mix, start, midi_hz(note), beats * self.beat, velocity)

    def play_lead(self, mix, start, frequency, duration, velocity):
        sample_rate = mix.sample_rate
        length = int((duration + 0.3) * sample_rate)
        t = mix.time(length)
        phase = np.float32(2 * np.pi * frequency) * t
        if self.lead == "bell":
            index = mix.envelope(_pluck, length, decay=0.5, release=0.01) * np.float32(2.2)
            signal = np.sin(phase + index * np.sin(np.float32(3.5) * phase))
            envelope = mix.envelope(_pluck, length, decay=0.9, release=0.3)
            gain = 0.34
        elif self.lead == "piano":
            index = mix.envelope(_pluck, length, decay=0.3, release=0.01) * np.float32(1.4)
            signal = np.sin(phase + index * np.sin(phase))
            envelope = mix.envelope(_pluck, length, decay=0.7, release=0.25)
            gain = 0.4
        elif self.lead == "flute":
            phase += np.float32(2 * np.pi * frequency) * mix.envelope(_vibrato, length, depth=0.004, rate=5.2)
            signal = np.sin(phase) + np.float32(0.12) * np.sin(2 * phase)
            envelope = mix.envelope(_adsr, length, attack=0.06, decay=0.3, sustain=0.8, release=0.25)
            gain = 0.3
        else:
            signal = np.float32(0.8) * np.sin(phase + np.float32(0.8) * np.sin(2 * phase))
            signal += np.float32(0.2) * np.sin(3 * phase)
            envelope = mix.envelope(_adsr, length, attack=0.03, decay=0.25, sustain=0.6, release=0.2)
            gain = 0.27
        mix.add(start, signal * envelope, gain=gain * velocity, pan=-0.2, echo=True)

    def render_drums(self, mix):
        sample_rate = mix.sample_rate
        kick, snare, hat = (
            _tail_off(drum) for drum in (_kick(sample_rate), _snare(sample_rate, mix.noise), _hat(sample_rate, mix.noise))
        )
        first_bar = self.intro
        for bar in range(first_bar, self.bars):
            start = bar * self.bar
            if self.drums in ("soft", "four"):
                kick_beats = (0, 1, 2, 3) if self.drums == "four" else (0, 2.5) if bar % 2 else (0, 2)
                for beat in kick_beats:
                    mix.add(start + beat * self.beat, kick, gain=0.42)
                for beat in (1, 3):
                    mix.add(start + beat * self.beat, snare, gain=0.14, pan=0.1)
            for eighth in range(8):
                offset = eighth * self.beat / 2 + (self.swing * self.beat if eighth % 2 else 0)
                level = (0.05 if eighth % 2 else 0.07) if self.drums != "shaker" else (0.12 if eighth % 2 else 0.08)
                mix.add(start + offset, hat, gain=level, pan=0.3)


def _wavetable(harmonics):
    phase = np.arange(TABLE_SIZE) * (2 * np.pi / TABLE_SIZE)
    table = sum(amplitude * np.sin(number * phase) for number, amplitude in enumerate(harmonics, start=1) if amplitude)
    return (table / np.abs(table).max()).astype(np.float32)


def _table_note(table, frequency, length, sample_rate):
    # The phase in 16.16 fixed point: integer arithmetic, exact over any length.
    step = round(frequency * TABLE_SIZE / sample_rate * 65536)
    index = (np.arange(max(1, length), dtype=np.int64) * step >> 16) & (TABLE_SIZE - 1)
    return table[index]


def _adsr(t, end, *, attack, decay, sustain, release):
    rise = np.minimum(t / attack, 1.0)
    body = sustain + (1 - sustain) * np.exp(-np.maximum(t - attack, 0) / decay)
    fall = np.clip((end - t) / release, 0.0, 1.0)
    return (rise * body * fall).astype(np.float32)


def _pluck(t, end, *, decay, release):
    return ((1 - np.exp(-t / 0.004)) * np.exp(-t / decay) * np.clip((end - t) / release, 0.0, 1.0)).astype(np.float32)


def _vibrato(t, end, *, depth, rate):
    """Seconds to add to a note's clock so its pitch wobbles by `depth` (relative) at `rate` Hz, after 0.4 s."""
    return (depth / (2 * np.pi * rate) * np.minimum(t / 0.4, 1) * (1 - np.cos(2 * np.pi * rate * t))).astype(np.float32)


def _tail_off(sound):
    """The sound faded to silence over its last fifth: a decay cut short would click."""
    tail = max(1, sound.size // 5)
    sound = sound.astype(np.float32)
    sound[-tail:] *= np.linspace(1, 0, tail, dtype=np.float32)
    return sound


def _kick(sample_rate):
    t = np.arange(int(0.35 * sample_rate)) / sample_rate
    frequency = 48 + 80 * np.exp(-t / 0.035)
    phase = 2 * np.pi * np.cumsum(frequency) / sample_rate
    return np.sin(phase) * np.exp(-t / 0.16) * (1 - np.exp(-t / 0.002))


def _snare(sample_rate, noise):
    t = np.arange(int(0.25 * sample_rate)) / sample_rate
    hiss = np.diff(noise.standard_normal(t.size + 1)) * 0.35
    body = np.sin(2 * np.pi * 185 * t) * np.exp(-t / 0.04)
    return (hiss * np.exp(-t / 0.07) + 0.6 * body) * (1 - np.exp(-t / 0.001))


def _hat(sample_rate, noise):
    t = np.arange(int(0.07 * sample_rate)) / sample_rate
    hiss = np.diff(np.diff(noise.standard_normal(t.size + 2))) * 0.3
    return hiss * np.exp(-t / 0.018)
